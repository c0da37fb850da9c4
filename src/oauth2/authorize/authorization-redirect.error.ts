import type { OAuthError } from '../errors.js';

/**
 * An authorization error that goes back to the client: thrown by `AuthorizationCompleter.validate`
 * once the client and redirect URI are trusted. The error filter answers it with a 303 to
 * `location`; a controller may also catch it and redirect itself.
 */
export class AuthorizationRedirectError extends Error {
  constructor(
    readonly location: string,
    readonly error: OAuthError,
  ) {
    super(`authorization error ${error.code}`);
    this.name = 'AuthorizationRedirectError';
  }
}
