/**
 * Why a request in the browser (an authorization request before its redirect URI is trusted, a
 * device code approval, the homeserver provisioning a sign-in waits on) was refused: what the person
 * is told. A domain error: the web layer turns each into its page (web/domain-error-pages.ts).
 * Errors a client may be redirected with are OAuthErrors (errors.ts).
 */
export type OAuth2Refusal =
  | 'client_id_repeated'
  | 'client_id_missing'
  /** An authorization request naming an unknown client. */
  | 'unknown_client'
  /** A sign-in's client vanished before its code was issued. */
  | 'client_gone'
  | 'client_policy'
  | 'redirect_uri_repeated'
  | 'redirect_uri_missing'
  | 'redirect_uri_mismatch'
  | 'admin_scope_refused'
  | 'device_code_expired'
  /** The homeserver did not answer while the user and device were being created there. */
  | 'homeserver_provisioning_transient'
  /** The homeserver refused to create the user or the device. */
  | 'homeserver_provisioning_refused';

/** `params` fill the person's message (never request values); `details` are for the log. */
export class OAuth2RefusalError extends Error {
  constructor(
    readonly refusal: OAuth2Refusal,
    readonly params: { rule?: string } = {},
    readonly details: { reason?: string; [k: string]: unknown } = {},
  ) {
    super(`request refused: ${refusal}`);
    this.name = 'OAuth2RefusalError';
  }
}
