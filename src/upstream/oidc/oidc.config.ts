import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';
import { resolveSecret, secretShape } from '../../config/secret-ref.js';
import { privateKeyAlg } from '../oauth-client/private-key.js';
import { SECRET_METHODS } from '../oauth-client/client-auth.js';
import { authorizationParamsSchema, RESERVED_OAUTH_PARAMS } from '../authorization-params.js';
import { multiTenantSchema } from './multi-tenant.js';
import { appleSchema } from './apple/apple.config.js';

/** An upstream OpenID Provider (Keycloak, Entra ID, Google, Authentik, ...), spoken to with openid-client. */
export const oidcProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('oidc').describe('An OpenID Connect provider (Keycloak, Entra ID, Google, Authentik, …).'),
    issuer: z.url().describe("The IdP's issuer URL; its `/.well-known/openid-configuration` is read unless `discovery: false`."),
    discovery: z.boolean().default(true).describe("Read the endpoints from the issuer's discovery document; when false, give them below."),
    authorization_endpoint: z.url().optional().describe('Authorization endpoint (required without discovery; overrides the discovered one).'),
    token_endpoint: z.url().optional().describe('Token endpoint (required without discovery; overrides the discovered one).'),
    userinfo_endpoint: z.url().optional().describe('Userinfo endpoint (overrides the discovered one).'),
    jwks_uri: z.url().optional().describe("The IdP's JWKS, which verifies ID tokens (required without discovery; overrides the discovered one)."),
    end_session_endpoint: z.url().optional().describe('Where `upstream_logout` sends the browser (overrides the discovered one).'),
    client_id: z.string().min(1).describe("Causeway's client id at the IdP."),
    ...secretShape('client_secret', "Causeway's client secret at the IdP (for `client_secret_basic`, `client_secret_post` and `client_secret_jwt`)."),
    token_endpoint_auth_method: z
      .enum(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'])
      .default('client_secret_basic')
      .describe("How Causeway authenticates at the IdP's token endpoint (`client_secret_jwt`: an HS256 assertion keyed with the client secret)."),
    ...secretShape('private_key', 'PEM private key (RSA, EC or Ed25519) for `private_key_jwt`.'),
    private_key_kid: z.string().optional().describe('The `kid` of `private_key` as registered at the IdP (required with `private_key_jwt`).'),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'not a valid scope token'))
      .default(['openid', 'profile', 'email'])
      .describe('Scopes requested from the IdP; must include `openid`.'),
    id_token_signed_response_alg: z
      .enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])
      .default('RS256')
      .describe('Signature algorithm expected on ID tokens; asymmetric only (`none` and HMAC are refused).'),
    userinfo_signed_response_alg: z
      .enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])
      .optional()
      .describe("Require the userinfo answer as a JWT signed with this algorithm (verified with the IdP's JWKS, `iss` and `aud` checked); a plain JSON answer is then refused."),
    authorization_params: authorizationParamsSchema(RESERVED_OAUTH_PARAMS).describe(
      "Extra parameters of the authorization request, e.g. Google's `hd` or Entra's `domain_hint`; each value a Liquid template over the downstream request (`request.login_hint`, `request.prompt`, `request.client_id`, `request.acr_values`, `request.logged_out`), left out when it renders empty; protocol parameters cannot be overridden.",
    ),
    response_mode: z.enum(['query', 'form_post']).default('query').describe('How the IdP returns the code: `query` (a redirect) or `form_post` (an HTTP POST).'),
    fetch_userinfo: z.boolean().default(true).describe("Also fetch the userinfo endpoint and merge its claims into the ID token's."),
    backchannel_logout: z.boolean().default(false).describe('Accept OIDC Back-Channel Logout tokens at `/upstream/<id>/backchannel-logout`: the IdP ends Causeway sessions.'),
    upstream_logout: z.boolean().default(false).describe("When a person signs out at Causeway, also send them to the IdP's `end_session_endpoint` (with `id_token_hint`)."),
    multi_tenant: multiTenantSchema.optional(),
    apple: appleSchema.optional(),
    clock_skew: z.number().int().min(0).max(600).default(30).describe('Allowed clock difference with the IdP for ID and logout tokens, in seconds.'),
    allow_insecure_http: z.boolean().default(false).describe('dev_mode only: allow plain http to the IdP (e.g. `http://127.0.0.1`).'),
    timeout_ms: z.number().int().min(100).max(60000).default(10000).describe('Timeout of each call to the IdP, in milliseconds.'),
  })
  .strict()
  .transform((o, ctx) => {
    // Sign in with Apple: the secret is generated from `apple` and sent as client_secret_post, Apple's only method.
    const client_secret = resolveSecret(o, 'client_secret', ctx, { required: !o.apple && SECRET_METHODS.has(o.token_endpoint_auth_method) });
    if (o.apple) {
      if (client_secret !== undefined) ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'not with apple: the client secret is generated from apple.private_key' });
      if (!['client_secret_basic', 'client_secret_post'].includes(o.token_endpoint_auth_method)) {
        ctx.addIssue({ code: 'custom', path: ['token_endpoint_auth_method'], message: 'with apple the generated secret is sent as client_secret_post (leave this out)' });
      }
      if (o.response_mode !== 'form_post') ctx.addIssue({ code: 'custom', path: ['response_mode'], message: 'Apple answers with form_post when the name or email is asked for: set response_mode: form_post' });
    }
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
    if (o.multi_tenant && o.backchannel_logout) {
      ctx.addIssue({ code: 'custom', path: ['backchannel_logout'], message: 'not available with multi_tenant (logout tokens are not checked per tenant)' });
    }
    if (!o.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' });
    if (o.token_endpoint_auth_method === 'private_key_jwt' && !o.private_key_kid) {
      ctx.addIssue({ code: 'custom', path: ['private_key_kid'], message: 'required with private_key_jwt (the kid of the key registered at the IdP)' });
    }
    const { client_secret_file: _a, client_secret_env: _b, private_key_file: _c, private_key_env: _d, ...rest } = o;
    return { ...rest, ...(o.apple ? { token_endpoint_auth_method: 'client_secret_post' as const } : {}), client_secret, private_key };
  })
  .describe('An upstream OpenID Connect provider.');
export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;
