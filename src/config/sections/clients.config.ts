import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/**
 * Every client_id Causeway issues or accepts: static ones as the operator writes them, dynamic ones
 * (ULIDs) fit too. Anything else is an unknown client before any lookup.
 */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;

/** Clients declared in YAML (e.g. Synapse for legacy msc3861 introspection, or an admin tool). */
export const staticClient = z
  .object({
    client_id: z.string().regex(CLIENT_ID_PATTERN, 'expected 1-128 characters of A-Z a-z 0-9 . _ ~ -').describe("The client's id (1-128 characters of A-Z a-z 0-9 . _ ~ -)."),
    client_name: z.string().optional().describe('Name shown on the consent page.'),
    client_auth_method: z
      .enum(['none', 'client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How the client authenticates at the token, introspection and revocation endpoints; `none` for a public client.'),
    ...secretShape('client_secret', 'The client secret (required unless `client_auth_method: none`).'),
    redirect_uris: z.array(z.url()).default([]).describe('Exact redirect URIs the client may use in an authorization request.'),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']))
      .default(['authorization_code', 'refresh_token'])
      .describe('Grant types the client may use at the token endpoint.'),
    introspection: z.boolean().default(false).describe('May introspect tokens (Synapse with `experimental_features.msc3861` introspects as a client).'),
    client_credentials_scopes: z.array(z.string()).default([]).describe('Scopes the client may get with `client_credentials`, e.g. `urn:synapse:admin:*` for an admin tool.'),
    allowed_scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected a scope token or a prefix ending in *'))
      .optional()
      .describe('Scopes this client may be granted at all (scope tokens, or prefixes ending in `*`); absent: whatever the policy allows.'),
  })
  .strict()
  .transform((o, ctx) => {
    const client_secret = resolveSecret(o, 'client_secret', ctx, { required: o.client_auth_method !== 'none' });
    if (o.client_auth_method === 'none' && client_secret) {
      ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'a public client (client_auth_method: none) has no secret' });
    }
    if (o.grant_types.includes('client_credentials') && o.client_auth_method === 'none') {
      ctx.addIssue({ code: 'custom', path: ['grant_types'], message: 'client_credentials needs a confidential client' });
    }
    const { client_secret_file: _f, client_secret_env: _e, ...rest } = o;
    return { ...rest, client_secret };
  })
  .describe('A client declared in the config (beside those registered dynamically).');
export type StaticClientConfig = z.infer<typeof staticClient>;
