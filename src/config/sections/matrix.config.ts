import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** The homeserver Causeway serves. */
export const matrixSection = z
  .object({
    homeserver: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.\-:[\]]+$/, 'expected a server name such as example.com')
      .describe("The homeserver's `server_name`: user IDs are `@localpart:<homeserver>`."),
    endpoint: z.url().optional().describe('Base URL at which Causeway reaches the homeserver, e.g. `http://synapse:8008/` (required unless `api: none`).'),
    api: z
      .enum(['synapse-mas', 'synapse-admin', 'none'])
      .default('synapse-mas')
      .describe(
        'How Causeway talks to the homeserver: `synapse-mas` (Synapse 1.136 or later: its `/_synapse/mas/*` API with the shared secret of the `matrix_authentication_service` block), `synapse-admin` (the admin API of Synapse 1.87 to 1.156 with `experimental_features.msc3861`), or `none` (dev_mode only: no homeserver at all).',
      ),
    ...secretShape('secret', "The shared secret: Synapse's `matrix_authentication_service.secret` (or `msc3861.admin_token` with `api: synapse-admin`); Synapse presents it to introspect tokens."),
    timeout_ms: z.number().int().min(100).max(300000).default(10000).describe('Timeout of each call to the homeserver, in milliseconds.'),
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
  })
  .describe('The homeserver Causeway serves.');
export type MatrixConfig = z.infer<typeof matrixSection>;
