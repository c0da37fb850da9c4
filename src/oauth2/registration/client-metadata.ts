import { z } from 'zod';
import { InvalidClientMetadataError, InvalidRedirectUriError, InvalidRequestError } from '../errors.js';
import { GRANT, type ClientAuthMethod } from '../clients/client.js';
import { canonicalRedirectUri, checkClientRelatedUri, checkClientUri, checkRedirectUri, parseAbsoluteUrl, type ApplicationType, type UriPolicy } from '../clients/redirect-uri.rules.js';

/**
 * Dynamic client registration request validation (RFC 7591 as profiled by MSC2966;
 * docs/contracts/matrix-clients.md §2). Pure: body in, registered metadata out, or an
 * OAuthError with the contract's code. Unknown fields and unknown grant/response types are dropped.
 */

const MAX_URIS = 20;
const MAX_STRING = 2000;
type Localizable = 'client_name' | 'client_uri' | 'logo_uri' | 'tos_uri' | 'policy_uri';
const LOCALIZED_KEY = /^(client_name|client_uri|logo_uri|tos_uri|policy_uri)#([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/;

const str = z.string().max(MAX_STRING);
const requestSchema = z.object({
  redirect_uris: z.array(str).max(MAX_URIS).optional(),
  token_endpoint_auth_method: str.optional(),
  grant_types: z.array(str).max(20).optional(),
  response_types: z.array(str).max(20).optional(),
  application_type: str.optional(),
  client_name: str.optional(),
  client_uri: str.optional(),
  logo_uri: str.optional(),
  tos_uri: str.optional(),
  policy_uri: str.optional(),
  contacts: z.array(str).max(20).optional(),
  id_token_signed_response_alg: str.optional(),
});

const AUTH_METHODS: ClientAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];
const KNOWN_GRANTS = [GRANT.authorizationCode, GRANT.refreshToken, GRANT.deviceCode, GRANT.clientCredentials] as string[];

export interface RegisteredMetadata {
  application_type: ApplicationType;
  client_uri: string;
  redirect_uris?: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: ClientAuthMethod;
  client_name?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  id_token_signed_response_alg?: 'RS256' | 'ES256';
  /** Localized variants, e.g. `client_name#fr`. */
  [localized: `${string}#${string}`]: string;
}

const metadataError = (field: string, why: string) => new InvalidClientMetadataError(`${field} ${why}`);

export function validateRegistration(body: unknown, policy: UriPolicy): RegisteredMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('the body must be a JSON object');
  // `null` means "not given" (some clients serialise absent optionals that way).
  const input = Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([, v]) => v !== null));
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw metadataError(issue.path.join('.') || 'metadata', 'has the wrong type or size');
  }
  const req = parsed.data;

  const applicationType = req.application_type ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') throw metadataError('application_type', 'must be "web" or "native"');

  // RFC 7591 §2: the default method is client_secret_basic (every Matrix client sends "none").
  const authMethod = (req.token_endpoint_auth_method ?? 'client_secret_basic') as ClientAuthMethod;
  if (!AUTH_METHODS.includes(authMethod)) throw metadataError('token_endpoint_auth_method', `must be one of ${AUTH_METHODS.join(', ')}`);

  // Unknown grant types are dropped (the SPEC example drops token-exchange); RFC 7591 default: authorization_code.
  let grantTypes = [...new Set((req.grant_types ?? [GRANT.authorizationCode]).filter((g) => KNOWN_GRANTS.includes(g)))];
  if (grantTypes.includes(GRANT.clientCredentials)) {
    if (authMethod === 'none') throw metadataError('grant_types', 'client_credentials needs a confidential client');
    // client_credentials is for static clients declared by the operator: not granted to dynamic ones.
    grantTypes = grantTypes.filter((g) => g !== GRANT.clientCredentials);
  }
  const wantsCode = grantTypes.includes(GRANT.authorizationCode);
  if (wantsCode && req.response_types && !req.response_types.includes('code')) throw metadataError('response_types', 'must include "code" for authorization_code');

  if (req.client_uri === undefined) throw metadataError('client_uri', 'is required');
  const clientUriError = checkClientUri(req.client_uri, policy);
  if (clientUriError) throw metadataError('client_uri', clientUriError);
  const clientUri = parseAbsoluteUrl(req.client_uri)!;

  const out: RegisteredMetadata = {
    application_type: applicationType,
    client_uri: req.client_uri,
    grant_types: grantTypes,
    response_types: wantsCode ? ['code'] : [],
    token_endpoint_auth_method: authMethod,
  };
  if (req.client_name !== undefined) out.client_name = req.client_name;
  for (const field of ['logo_uri', 'tos_uri', 'policy_uri'] as const) {
    const v = req[field];
    if (v === undefined) continue;
    const bad = checkClientRelatedUri(v, clientUri, policy);
    if (bad) throw metadataError(field, bad);
    out[field] = v;
  }

  // Localized variants follow their base field's rules.
  for (const [key, value] of Object.entries(input)) {
    const m = LOCALIZED_KEY.exec(key);
    if (!m) continue;
    if (typeof value !== 'string' || value.length > MAX_STRING) throw metadataError(key, 'must be a string');
    const base = m[1] as Localizable;
    if (base === 'client_uri') {
      const bad = checkClientUri(value, policy);
      if (bad) throw metadataError(key, bad);
      // Consent pages show client_uri's host: a localized variant may not name another one.
      if (parseAbsoluteUrl(value)!.host !== clientUri.host) throw metadataError(key, "must be on client_uri's host");
    } else if (base !== 'client_name') {
      const bad = checkClientRelatedUri(value, clientUri, policy);
      if (bad) throw metadataError(key, bad);
    }
    out[key as `${string}#${string}`] = value;
  }

  const redirectUris = req.redirect_uris ?? [];
  if (wantsCode && redirectUris.length === 0) throw new InvalidRedirectUriError('redirect_uris is required for the authorization_code grant');
  for (const uri of redirectUris) {
    const bad = checkRedirectUri(uri, applicationType, clientUri, policy);
    if (bad) throw new InvalidRedirectUriError(`${uri}: ${bad}`);
  }
  // Stored (and answered) in the form browsers read them, the form /authorize compares.
  if (redirectUris.length) out.redirect_uris = [...new Set(redirectUris.map((u) => canonicalRedirectUri(u)!))];
  // SPEC: grant_types MUST include refresh_token (MAS accepts and then refuses every refresh).
  if (!grantTypes.includes(GRANT.refreshToken)) throw metadataError('grant_types', 'must include refresh_token');

  if (req.contacts) out.contacts = req.contacts;
  if (req.id_token_signed_response_alg !== undefined) {
    if (req.id_token_signed_response_alg !== 'RS256' && req.id_token_signed_response_alg !== 'ES256') {
      throw metadataError('id_token_signed_response_alg', 'must be RS256 or ES256');
    }
    out.id_token_signed_response_alg = req.id_token_signed_response_alg;
  }
  return out;
}

/** Canonical JSON (keys sorted at every level): identical registrations hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
