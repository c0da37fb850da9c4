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
    kind: z.literal('cas').describe('A CAS 2.0/3.0 server (Apereo CAS, django-cas-server, …).'),
    server_url: z
      .url()
      .transform((u) => u.replace(/\/+$/, ''))
      .describe('CAS base URL, e.g. `https://cas.example.edu/cas` (sign-in at `/login`, validation at `/p3/serviceValidate` or `/serviceValidate`).'),
    protocol: z.literal([2, 3]).default(3).describe('`3`: validate at `/p3/serviceValidate` (standard attributes); `2`: at `/serviceValidate` (attributes only as a server extension).'),
    gateway: z.boolean().default(false).describe('Send `gateway=true`: CAS signs in only people who already have a CAS session and never shows its form.'),
    timeout_ms: z.number().int().min(100).max(60000).default(5000).describe('Timeout of the ticket validation request, in milliseconds.'),
    single_logout: z
      .boolean()
      .default(true)
      .describe(
        "Accept the CAS server's Single Logout requests (`logoutRequest` POSTs to the service URL and `/cas/slo`). They are unsigned: outside dev_mode `slo_allowed_from` is then required. `false` refuses them all (404).",
      ),
    slo_allowed_from: z
      .array(cidr)
      .default([])
      .describe(
        'Addresses (CIDR ranges) allowed to POST Single Logout requests: the CAS servers. Required with `single_logout` outside dev_mode (`["0.0.0.0/0", "::/0"]` accepts any address, knowingly). Behind a proxy, needs `http.trust_proxy`.',
      ),
    upstream_logout: z.boolean().default(false).describe('Signing out of Causeway also signs out of CAS (`<server_url>/logout` and back); off by default since it ends single sign-on for every other service too.'),
    allow_insecure_http: z.boolean().default(false).describe('dev_mode only: allow plain http to the CAS server.'),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.allow_insecure_http && !o.server_url.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['server_url'], message: 'must be https (allow_insecure_http: true only for tests)' });
    }
  })
  .describe('An upstream CAS server.');
export type CasProviderConfig = z.infer<typeof casProviderSchema>;
