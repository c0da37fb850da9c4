/**
 * OAuth 2.0 errors (RFC 6749 §4.1.2.1 / §5.2, RFC 7009, RFC 7591, RFC 8628). One class per wire code.
 * `redirectable`: may be sent back to the client's redirect_uri (false when the redirect URI or
 * client itself is in doubt: those are shown as a page instead).
 */
export class OAuthError extends Error {
  readonly status: number = 400;
  readonly code: string = 'invalid_request';
  readonly redirectable: boolean = true;
  constructor(readonly description?: string) {
    super(description);
    this.name = new.target.name;
  }
  toJSON() {
    return this.description ? { error: this.code, error_description: this.description } : { error: this.code };
  }
}

const define = (code: string, status = 400, redirectable = true) =>
  class extends OAuthError {
    override readonly code = code;
    override readonly status = status;
    override readonly redirectable = redirectable;
  };

export class InvalidRequestError extends define('invalid_request') {}
export class InvalidClientError extends define('invalid_client', 401, false) {}
export class InvalidGrantError extends define('invalid_grant') {}
export class UnauthorizedClientError extends define('unauthorized_client') {}
export class UnsupportedGrantTypeError extends define('unsupported_grant_type') {}
export class UnsupportedResponseTypeError extends define('unsupported_response_type') {}
export class InvalidScopeError extends define('invalid_scope') {}
export class AccessDeniedError extends define('access_denied', 403) {}
export class LoginRequiredError extends define('login_required') {}
export class ConsentRequiredError extends define('consent_required') {}
export class InteractionRequiredError extends define('interaction_required') {}
export class RequestNotSupportedError extends define('request_not_supported') {}
export class RequestUriNotSupportedError extends define('request_uri_not_supported') {}
export class RegistrationNotSupportedError extends define('registration_not_supported') {}
export class InvalidRedirectUriError extends define('invalid_redirect_uri', 400, false) {}
export class InvalidClientMetadataError extends define('invalid_client_metadata', 400, false) {}
export class AuthorizationPendingError extends define('authorization_pending') {}
export class SlowDownError extends define('slow_down') {}
export class ExpiredTokenError extends define('expired_token') {}
export class InvalidTokenError extends define('invalid_token', 401) {}
export class InsufficientScopeError extends define('insufficient_scope', 403) {}
export class TemporarilyUnavailableError extends define('temporarily_unavailable', 503) {}
