/**
 * Every URL Causeway gives an upstream provider, built from `http.public_base` in this one place:
 * the callback (OIDC and OAuth 2.0 redirect_uri, SAML ACS, where the CAS service URL and the dev
 * form lead), its resume step, the SAML SP metadata, Single Logout and federation discovery endpoints, the CAS service
 * URL and Single Logout endpoint, the OIDC back-channel logout endpoint, the dev sign-in form.
 * The controllers serving them declare the same paths under `/upstream/:provider/`.
 */
export interface UpstreamUrls {
  /** `/upstream/{id}/callback`: the one callback of every kind (GET and POST). */
  callback: string;
  /** Where the callback continues once the browser is back on Causeway's own site (SameSite cookies). */
  callbackResume(key: string): string;
  /** SAML: the SP metadata document; the default SP entity ID. */
  samlMetadata: string;
  /** SAML: Single Logout, both directions, both bindings. */
  samlSlo: string;
  /** SAML federation: the page where the person picks their IdP. */
  samlDiscovery: string;
  /** CAS: the service URL without its query (the login's `state` is added by casService). */
  casServiceEndpoint: string;
  /** CAS: the service URL of one login, carrying its single-use state. */
  casService(state: string): string;
  /** CAS: Single Logout requests only. */
  casSlo: string;
  /** OIDC: Back-Channel Logout. */
  backchannelLogout: string;
  /** The dev sign-in form. */
  devLogin: string;
}

/** The URLs of provider `providerId` under `publicBase` (with or without its final slash). */
export function upstreamUrls(publicBase: string, providerId: string): UpstreamUrls {
  const base = `${publicBase.endsWith('/') ? publicBase : `${publicBase}/`}upstream/${encodeURIComponent(providerId)}`;
  const casServiceEndpoint = `${base}/cas/service`;
  return {
    callback: `${base}/callback`,
    callbackResume: (key) => `${base}/callback/resume/${encodeURIComponent(key)}`,
    samlMetadata: `${base}/saml/metadata`,
    samlSlo: `${base}/saml/slo`,
    samlDiscovery: `${base}/saml/discovery`,
    casServiceEndpoint,
    casService: (state) => `${casServiceEndpoint}?state=${encodeURIComponent(state)}`,
    casSlo: `${base}/cas/slo`,
    backchannelLogout: `${base}/backchannel-logout`,
    devLogin: `${base}/dev-login`,
  };
}
