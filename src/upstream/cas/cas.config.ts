import { z } from 'zod';
import { cidrSchema as cidr } from '../../config/cidr.js';
import { providerBaseShape } from '../provider.config.js';

/**
 * An upstream CAS 2.0/3.0 server (Apereo CAS, django-cas-server, ...).
 *
 * Templates see the CAS user (`<cas:user>`) as `user.user` and every released attribute by its
 * name (`user.mail`, `user.eduPersonAffiliation`; repeated attributes as lists). `claims.subject`
 * defaults to the CAS user, which is also what Synapse stored as the external id of its CAS users.
 */
export const casProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('cas'),
    /** CAS base URL, e.g. https://cas.example.edu/cas (login at /login, validation at /serviceValidate or /p3/serviceValidate). */
    server_url: z.url().transform((u) => u.replace(/\/+$/, '')),
    /** 3: validate at /p3/serviceValidate (attributes are standard); 2: at /serviceValidate (attributes only as a server extension). */
    protocol: z.literal([2, 3]).default(3),
    /** Send `gateway=true`: CAS signs in only people who already have a CAS session and never shows its login form. */
    gateway: z.boolean().default(false),
    /** Bound on the ticket validation request (connect + answer). */
    timeout_ms: z.number().int().min(100).max(60000).default(5000),
    /**
     * Accept the CAS server's Single Logout requests (`logoutRequest` POSTs to the service URL and
     * to `/cas/slo`). They are unsigned, so outside dev_mode `slo_allowed_from` must say who may send
     * them; `false` refuses them all (404) and people stay signed in until their session ends.
     */
    single_logout: z.boolean().default(true),
    /**
     * Addresses allowed to POST Single Logout requests (CIDR ranges). Required with `single_logout`
     * outside dev_mode (`["0.0.0.0/0", "::/0"]` to accept any address, knowingly). With
     * `http.trust_proxy`, the client address is taken from X-Forwarded-For.
     */
    slo_allowed_from: z.array(cidr).default([]),
    /**
     * Signing out of Causeway also signs out of CAS (the browser is sent to {server_url}/logout and
     * back). Off by default: it ends the person's single sign-on for every other campus service too.
     */
    upstream_logout: z.boolean().default(false),
    /** Test/dev only: allow plain http to the CAS server. */
    allow_insecure_http: z.boolean().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.allow_insecure_http && !o.server_url.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['server_url'], message: 'must be https (allow_insecure_http: true only for tests)' });
    }
  });
export type CasProviderConfig = z.infer<typeof casProviderSchema>;
