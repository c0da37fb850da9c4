import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';

/** An upstream CAS 2.0/3.0 server (Apereo CAS, django-cas-server, ...). */
export const casProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('cas'),
    /** CAS base URL, e.g. https://cas.example.edu/cas (login at /login, validation at /serviceValidate or /p3/serviceValidate). */
    server_url: z.url(),
    protocol: z.union([z.literal(2), z.literal(3)]).default(3),
    /** Send `gateway=true` (no interactive login at CAS). */
    gateway: z.boolean().default(false),
    timeout_ms: z.number().int().min(100).max(60000).default(5000),
    /** CIDR ranges allowed to POST Single Logout requests (empty = any). */
    slo_allowed_from: z.array(z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, 'expected a CIDR range like 10.0.0.0/8')).default([]),
    /** Test/dev only: allow plain http to the CAS server. */
    allow_insecure_http: z.boolean().default(false),
  })
  .strict();
export type CasProviderConfig = z.infer<typeof casProviderSchema>;
