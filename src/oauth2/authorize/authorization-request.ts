/**
 * A validated authorization request (from /authorize, after the pre-login checks). It is what the
 * login machine carries from start to finish and hands back to AuthorizationService to issue the
 * code. JSON-serialisable (stored in the machine snapshot).
 */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  responseMode: 'query' | 'fragment';
  /** Scope tokens as requested (namespace kept), e.g. urn:matrix:client:api:* urn:matrix:client:device:ABC. */
  scope: string[];
  /** The Matrix device id from the scope, if a Matrix login. */
  deviceId?: string;
  state?: string;
  nonce?: string;
  codeChallenge: string;
  /** `prompt` values: login | create | consent | none. */
  prompt: string[];
  /** Raw login_hint (e.g. `mxid:@alice:example.com`). */
  loginHint?: string;
  /** Raw acr_values (space-separated), for upstream providers' templated authorization parameters. */
  acrValues?: string;
  /** Upstream provider asked for (`?provider=` or derived from the hint). */
  providerHint?: string;
}

/** A device-code approval in progress (the verification page's login). */
export interface DeviceAuthorizationRef {
  userCode: string;
  clientId: string;
  scope: string[];
  deviceId?: string;
}
