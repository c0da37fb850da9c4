import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';
import { resolveSecret, secretShape } from '../../config/secret-ref.js';
import { privateKeyAlg } from '../oauth-client/private-key.js';
import { SECRET_METHODS } from '../oauth-client/client-auth.js';
import { authorizationParamsSchema, RESERVED_OAUTH_PARAMS } from '../authorization-params.js';

/** An upstream OpenID Provider (Keycloak, Entra ID, Google, Authentik, ...), spoken to with openid-client. */
export const oidcProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('oidc'),
    /** Issuer URL; its `/.well-known/openid-configuration` is read unless `discovery: false`. */
    issuer: z.url(),
    discovery: z.boolean().default(true),
    /** Explicit endpoints (required when `discovery: false`, override discovered ones otherwise). */
    authorization_endpoint: z.url().optional(),
    token_endpoint: z.url().optional(),
    userinfo_endpoint: z.url().optional(),
    jwks_uri: z.url().optional(),
    end_session_endpoint: z.url().optional(),
    client_id: z.string().min(1),
    ...secretShape('client_secret'),
    /** `client_secret_jwt`: an HS256 client assertion keyed with client_secret; `private_key_jwt`: signed with private_key. */
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none']).default('client_secret_basic'),
    /** PEM private key for private_key_jwt. */
    ...secretShape('private_key'),
    private_key_kid: z.string().optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'not a valid scope token')).default(['openid', 'profile', 'email']),
    /** The ID token signature algorithm this client expects (OIDC default RS256). Asymmetric only: `none` and HMAC are refused. */
    id_token_signed_response_alg: z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']).default('RS256'),
    /**
     * Require a signed userinfo answer (`application/jwt`) with this algorithm, verified with the
     * IdP's JWKS (iss and aud checked too). Unset: plain JSON over TLS, as most IdPs send.
     */
    userinfo_signed_response_alg: z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']).optional(),
    /**
     * Extra authorization request parameters, e.g. Google's `hd` or Entra's `domain_hint`; each value
     * is a Liquid template over the downstream request (authorization-params.ts). Protocol
     * parameters cannot be overridden.
     */
    authorization_params: authorizationParamsSchema(RESERVED_OAUTH_PARAMS),
    /** `form_post` makes the IdP POST the code back (response_mode=form_post). */
    response_mode: z.enum(['query', 'form_post']).default('query'),
    /** Merge claims from the userinfo endpoint into the ID token claims. */
    fetch_userinfo: z.boolean().default(true),
    /** Accept OIDC Back-Channel Logout tokens at /upstream/{id}/backchannel-logout. */
    backchannel_logout: z.boolean().default(false),
    /** On RP-initiated logout at Causeway, also send the user to the IdP's end_session_endpoint with id_token_hint. */
    upstream_logout: z.boolean().default(false),
    /** Allowed clock skew for ID and logout tokens, in seconds. */
    clock_skew: z.number().int().min(0).max(600).default(30),
    /** Test/dev only: allow plain http to the IdP (e.g. http://127.0.0.1). */
    allow_insecure_http: z.boolean().default(false),
    timeout_ms: z.number().int().min(100).max(60000).default(10000),
  })
  .strict()
  .transform((o, ctx) => {
    const client_secret = resolveSecret(o, 'client_secret', ctx, {
      required: SECRET_METHODS.has(o.token_endpoint_auth_method),
    });
    const private_key = resolveSecret(o, 'private_key', ctx, { required: o.token_endpoint_auth_method === 'private_key_jwt', raw: true });
    if (private_key !== undefined && privateKeyAlg(private_key) === undefined) {
      ctx.addIssue({ code: 'custom', path: ['private_key'], message: 'expected a PEM RSA, EC (P-256/P-384/P-521) or Ed25519 private key' });
    }
    if (!o.discovery) {
      for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
        if (!o[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'required when discovery is false' });
      }
    }
    if (!o.allow_insecure_http) {
      for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint'] as const) {
        if (o[k] !== undefined && !o[k].startsWith('https://')) {
          ctx.addIssue({ code: 'custom', path: [k], message: 'must be https (allow_insecure_http: true only for tests)' });
        }
      }
    }
    if (!o.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' });
    if (o.token_endpoint_auth_method === 'private_key_jwt' && !o.private_key_kid) {
      ctx.addIssue({ code: 'custom', path: ['private_key_kid'], message: 'required with private_key_jwt (the kid of the key registered at the IdP)' });
    }
    const { client_secret_file: _a, client_secret_env: _b, private_key_file: _c, private_key_env: _d, ...rest } = o;
    return { ...rest, client_secret, private_key };
  });
export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;
