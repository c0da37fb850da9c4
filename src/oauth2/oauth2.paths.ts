/**
 * Where every OAuth 2.0 / OIDC endpoint lives, relative to `http.public_base` (the issuer, which
 * ends with "/"). MAS's layout (docs/decisions/0012-mas-compatible-surface.md), so Causeway is a
 * drop-in replacement: Synapse calls `{endpoint}/oauth2/introspect` without reading discovery.
 *
 * The pages served by the login module are listed here too, so discovery and the device
 * authorization response advertise the URLs that module actually serves.
 */
export const OAUTH2_PATHS = {
  authorization: 'authorize',
  token: 'oauth2/token',
  introspection: 'oauth2/introspect',
  revocation: 'oauth2/revoke',
  registration: 'oauth2/registration',
  jwks: 'oauth2/keys.json',
  userinfo: 'oauth2/userinfo',
  deviceAuthorization: 'oauth2/device',
  /** RFC 8628 verification page (login module); `?code=XXXX-XXXX` pre-fills the user code. */
  deviceVerification: 'link',
  /** OIDC RP-initiated logout page (login module). Outside /oauth2/ so its errors render as HTML pages. */
  endSession: 'end-session',
  /** Account management UI (MSC4191). */
  account: 'account/',
} as const;

export type OAuth2Path = keyof typeof OAUTH2_PATHS;

/** Absolute URL of an endpoint under the issuer (`public_base` ends with "/"). */
export function endpointUrl(publicBase: string, path: OAuth2Path): string {
  return `${publicBase}${OAUTH2_PATHS[path]}`;
}
