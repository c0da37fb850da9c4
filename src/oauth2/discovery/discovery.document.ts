import type { GatewayConfig } from '../../config/config.schema.js';
import type { SigningAlg } from '../../crypto/keys.js';
import { GRANT } from '../clients/client.js';
import { endpointUrl } from '../oauth2.paths.js';
import { SUPPORTED_SCOPES } from '../scopes/scope.js';

/** MSC4191 account management actions the account UI implements (stable names; aliases are accepted there). */
export const ACCOUNT_ACTIONS = ['org.matrix.profile', 'org.matrix.devices_list', 'org.matrix.device_view', 'org.matrix.device_delete', 'org.matrix.account_deactivate', 'org.matrix.cross_signing_reset'];

/**
 * Whether `prompt=create` (sign-up) can do anything: a provider with `registration: open` creates
 * the account on a person's first sign-in. With every provider `existing_only` or `disabled`,
 * nobody can sign up, so `create` is neither advertised nor honoured.
 */
export function signUpPossible(config: GatewayConfig): boolean {
  return config.upstream.providers.some((p) => p.registration === 'open');
}

/**
 * The OpenID Provider metadata (RFC 8414 / OIDC Discovery), with every field Matrix clients and
 * Synapse check (docs/contracts/matrix-clients.md §1.3, docs/contracts/synapse.md §2.8). Only what works is
 * advertised: code flow, S256, query/fragment.
 */
export function discoveryDocument(config: GatewayConfig, algorithms: SigningAlg[]): Record<string, unknown> {
  const base = config.http.public_base;
  const url = (p: Parameters<typeof endpointUrl>[1]) => endpointUrl(base, p);
  return {
    issuer: base,
    authorization_endpoint: url('authorization'),
    token_endpoint: url('token'),
    jwks_uri: url('jwks'),
    // `policy.client_registration: closed`: only static clients, so no registration endpoint to find.
    ...(config.policy.client_registration !== 'closed' ? { registration_endpoint: url('registration') } : {}),
    introspection_endpoint: url('introspection'),
    revocation_endpoint: url('revocation'),
    userinfo_endpoint: url('userinfo'),
    end_session_endpoint: url('endSession'),
    ...(config.policy.device_code_grant ? { device_authorization_endpoint: url('deviceAuthorization') } : {}),
    account_management_uri: url('account'),
    account_management_actions_supported: ACCOUNT_ACTIONS,
    scopes_supported: SUPPORTED_SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment'],
    grant_types_supported: [GRANT.authorizationCode, GRANT.refreshToken, GRANT.clientCredentials, ...(config.policy.device_code_grant ? [GRANT.deviceCode] : [])],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: signUpPossible(config) ? ['create'] : [],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algorithms,
    userinfo_signing_alg_values_supported: ['none'],
    claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'auth_time', 'nonce', 'at_hash', 'sid', 'preferred_username', 'name', 'email'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

/** What Synapse sends for its own auth_metadata proxies (docs/contracts/synapse.md §5.1). */
export const AUTH_METADATA_CACHE_CONTROL = 'public, max-age=600, s-maxage=3600, stale-while-revalidate=600';
