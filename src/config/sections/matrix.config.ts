import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** The homeserver Causeway serves. */
export const matrixSection = z
  .object({
    /** The homeserver's server_name (user IDs are @localpart:homeserver). */
    homeserver: z.string().min(1).regex(/^[A-Za-z0-9.\-:[\]]+$/, 'expected a server name such as example.com'),
    /** Base URL Causeway uses to reach the homeserver (not used with `api: none`). */
    endpoint: z.url().optional(),
    /**
     * `synapse-mas` (Synapse >= 1.135, /_synapse/mas/*), `synapse-admin` (older admin API), or
     * `none` (dev_mode only: trials without a homeserver; nothing is told to any homeserver).
     */
    api: z.enum(['synapse-mas', 'synapse-admin', 'none']).default('synapse-mas'),
    /** Shared secret: Synapse's matrix_authentication_service.secret (or msc3861.admin_token). */
    ...secretShape('secret'),
    /** Per-call timeout towards the homeserver. */
    timeout_ms: z.number().int().min(100).max(300000).default(10000),
  })
  .strict()
  .transform((o, ctx) => {
    const withHomeserver = o.api !== 'none';
    if (withHomeserver && !o.endpoint) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: `required with api: ${o.api}` });
    const endpoint = o.endpoint ?? 'http://homeserver.invalid/';
    return {
      homeserver: o.homeserver,
      endpoint: endpoint.endsWith('/') ? endpoint : `${endpoint}/`,
      api: o.api,
      timeout_ms: o.timeout_ms,
      // Without a homeserver nobody needs the shared secret; an unguessable one keeps the
      // introspection's Bearer mode closed.
      secret: resolveSecret(o, 'secret', ctx, { required: withHomeserver }) ?? (withHomeserver ? '' : randomBytes(32).toString('base64url')),
    };
  });
export type MatrixConfig = z.infer<typeof matrixSection>;
