import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** The homeserver Causeway serves. */
export const matrixSection = z
  .object({
    /** The homeserver's server_name (user IDs are @localpart:homeserver). */
    homeserver: z.string().min(1).regex(/^[A-Za-z0-9.\-:[\]]+$/, 'expected a server name such as example.com'),
    /** Base URL Causeway uses to reach the homeserver. */
    endpoint: z.url(),
    /** `synapse-mas` (Synapse >= 1.135, /_synapse/mas/*) or `synapse-admin` (older admin API). */
    api: z.enum(['synapse-mas', 'synapse-admin']).default('synapse-mas'),
    /** Shared secret: Synapse's matrix_authentication_service.secret (or msc3861.admin_token). */
    ...secretShape('secret'),
    /** Per-call timeout towards the homeserver. */
    timeout_ms: z.number().int().min(100).max(300000).default(10000),
  })
  .strict()
  .transform((o, ctx) => ({
    homeserver: o.homeserver,
    endpoint: o.endpoint.endsWith('/') ? o.endpoint : `${o.endpoint}/`,
    api: o.api,
    timeout_ms: o.timeout_ms,
    secret: resolveSecret(o, 'secret', ctx, { required: true }) ?? '',
  }));
export type MatrixConfig = z.infer<typeof matrixSection>;
