import { UpstreamError } from '../connector.js';

const STATUS_PREFIX = 'urn:oasis:names:tc:SAML:2.0:status:';

/** User-facing wording for the second-level status codes IdPs actually send. */
const MESSAGES: Record<string, string> = {
  AuthnFailed: 'The identity provider could not verify who you are. Please try again.',
  NoPassive: 'You are not signed in at the identity provider, and this sign-in asked it not to show a login page.',
  RequestDenied: 'The identity provider refused this sign-in request.',
  NoAuthnContext: 'The identity provider cannot sign you in with the method this service requires.',
  InvalidNameIDPolicy: 'The identity provider cannot identify you in the way this service asked for.',
  UnknownPrincipal: 'The identity provider does not know this account.',
  NoAvailableIDP: 'No identity provider is available for this sign-in.',
  NoSupportedIDP: 'No supported identity provider is available for this sign-in.',
  ProxyCountExceeded: 'The identity provider could not forward this sign-in.',
  RequestUnsupported: 'The identity provider does not support this sign-in request.',
  RequestVersionDeprecated: 'The identity provider does not support this version of SAML.',
  RequestVersionTooHigh: 'The identity provider does not support this version of SAML.',
  RequestVersionTooLow: 'The identity provider does not support this version of SAML.',
  UnsupportedBinding: 'The identity provider does not support the way this service sent the request.',
  PartialLogout: 'The identity provider could only partly end your session.',
  AuthnCancelled: 'The sign-in was cancelled at the identity provider.',
};

/** Short name of a status URI (`urn:…:status:AuthnFailed` → `AuthnFailed`). */
export function statusName(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  return uri.startsWith(STATUS_PREFIX) ? uri.slice(STATUS_PREFIX.length) : uri.slice(uri.lastIndexOf(':') + 1) || uri;
}

/**
 * A non-Success SAML status as the error page shows it. The IdP's free-text StatusMessage is
 * logged, never shown (it is unsigned and attacker-controlled when the response is unsigned).
 */
export function statusError(top: string | undefined, second: string | undefined, cause?: unknown): UpstreamError {
  const topName = statusName(top) ?? 'unknown';
  const secondName = statusName(second);
  const message =
    (secondName && MESSAGES[secondName]) ||
    (topName === 'Requester'
      ? 'The identity provider could not accept this sign-in request.'
      : topName === 'VersionMismatch'
        ? 'The identity provider does not support this version of SAML.'
        : 'The identity provider could not sign you in.');
  // Only plain status names are echoed (the value may come from an unsigned message).
  const code = [topName, secondName].filter((n): n is string => !!n && /^[A-Za-z]{1,40}$/.test(n)).join('/');
  return new UpstreamError('upstream_denied', code ? `${message} (SAML status: ${code})` : message, cause, 400);
}
