import { UpstreamError } from '../connector.js';
import { msg, type MessageKey } from '../../web/i18n/message.js';

const STATUS_PREFIX = 'urn:oasis:names:tc:SAML:2.0:status:';

/** User-facing wording (catalog keys) for the second-level status codes IdPs actually send. */
const MESSAGES: Record<string, MessageKey> = {
  AuthnFailed: 'upstream.saml.status.AuthnFailed',
  NoPassive: 'upstream.saml.status.NoPassive',
  RequestDenied: 'upstream.saml.status.RequestDenied',
  NoAuthnContext: 'upstream.saml.status.NoAuthnContext',
  InvalidNameIDPolicy: 'upstream.saml.status.InvalidNameIDPolicy',
  UnknownPrincipal: 'upstream.saml.status.UnknownPrincipal',
  NoAvailableIDP: 'upstream.saml.status.NoAvailableIDP',
  NoSupportedIDP: 'upstream.saml.status.NoSupportedIDP',
  ProxyCountExceeded: 'upstream.saml.status.ProxyCountExceeded',
  RequestUnsupported: 'upstream.saml.status.RequestUnsupported',
  RequestVersionDeprecated: 'upstream.saml.status.VersionUnsupported',
  RequestVersionTooHigh: 'upstream.saml.status.VersionUnsupported',
  RequestVersionTooLow: 'upstream.saml.status.VersionUnsupported',
  UnsupportedBinding: 'upstream.saml.status.UnsupportedBinding',
  PartialLogout: 'upstream.saml.status.PartialLogout',
  AuthnCancelled: 'upstream.saml.status.AuthnCancelled',
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
  const message = msg(
    (secondName && Object.hasOwn(MESSAGES, secondName) ? MESSAGES[secondName] : undefined) ||
      (topName === 'Requester' ? 'upstream.saml.status.Requester' : topName === 'VersionMismatch' ? 'upstream.saml.status.VersionUnsupported' : 'upstream.saml.status.other'),
  );
  // Only plain status names are echoed (the value may come from an unsigned message).
  const code = [topName, secondName].filter((n): n is string => !!n && /^[A-Za-z]{1,40}$/.test(n)).join('/');
  return new UpstreamError('upstream_denied', code ? msg('upstream.saml.status.with_code', { message, code }) : message, cause, 400);
}
