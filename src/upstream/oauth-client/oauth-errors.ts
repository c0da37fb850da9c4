import { AuthorizationResponseError, ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { UpstreamError, type UpstreamErrorKind } from '../connector.js';
import { msg, type Msg } from '../../web/i18n/message.js';

/**
 * openid-client / oauth4webapi failures → UpstreamError with a user-safe message. The original
 * error stays as `cause` (logged, never shown).
 */

interface Causal {
  code?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
}

/** Every error in the cause chain (bounded), outermost first. */
function chain(err: unknown): Causal[] {
  const out: Causal[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e && typeof e === 'object'; i++) {
    out.push(e as Causal);
    e = (e as Causal).cause;
  }
  return out;
}

function claimOf(err: unknown): string | undefined {
  for (const e of chain(err)) {
    const claim = (e as { claim?: unknown }).claim;
    if (typeof claim === 'string') return claim;
  }
  return undefined;
}

const MESSAGES: Record<UpstreamErrorKind, Msg> = {
  state_mismatch: msg('upstream.state_mismatch'),
  replayed: msg('upstream.replayed'),
  signature_invalid: msg('upstream.signature_invalid'),
  issuer_mismatch: msg('upstream.issuer_mismatch'),
  audience_mismatch: msg('upstream.audience_mismatch'),
  recipient_mismatch: msg('upstream.audience_mismatch'),
  expired: msg('upstream.expired'),
  not_yet_valid: msg('upstream.not_yet_valid'),
  nonce_mismatch: msg('upstream.nonce_mismatch'),
  unsolicited: msg('upstream.unsolicited'),
  malformed: msg('upstream.malformed'),
  upstream_denied: msg('upstream.upstream_denied'),
  upstream_unavailable: msg('upstream.upstream_unavailable'),
  requirement_failed: msg('upstream.requirement_failed'),
  tenant_not_allowed: msg('upstream.requirement_failed'),
  account_unavailable: msg('upstream.account_unavailable'),
  config: msg('upstream.config'),
};

export function upstreamError(kind: UpstreamErrorKind, cause?: unknown, message: Msg = MESSAGES[kind]): UpstreamError {
  return new UpstreamError(kind, message, cause, kind === 'upstream_unavailable' || kind === 'config' ? 503 : kind === 'tenant_not_allowed' ? 403 : 400);
}

/** Classifies an error thrown by openid-client during the callback. */
export function classifyOidcError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof AuthorizationResponseError) {
    const code = err.error;
    return upstreamError('upstream_denied', err, code === 'access_denied' ? msg('upstream.oidc_access_denied') : MESSAGES.upstream_denied);
  }
  // Our client credentials were refused: an operator problem, not the user's.
  if (err instanceof WWWAuthenticateChallengeError || (err instanceof ResponseBodyError && ['invalid_client', 'unauthorized_client'].includes(err.error))) {
    return upstreamError('config', err);
  }
  // An error answer of the token endpoint (invalid_grant: a code that is unknown, used, or for another client).
  if (err instanceof ResponseBodyError) return upstreamError('upstream_denied', err, msg('upstream.oidc_grant_refused'));

  const links = chain(err);
  const codes = links.map((e) => e.code).filter((c): c is string => typeof c === 'string');
  const text = links.map((e) => (typeof e.message === 'string' ? e.message : '')).join(' | ');
  const claim = claimOf(err);

  if (codes.includes('OAUTH_JWT_TIMESTAMP_CHECK_FAILED')) return upstreamError(claim === 'exp' ? 'expired' : 'not_yet_valid', err);
  if (codes.includes('OAUTH_JWT_CLAIM_COMPARISON_FAILED')) {
    if (claim === 'nonce') return upstreamError('nonce_mismatch', err);
    if (claim === 'iss') return upstreamError('issuer_mismatch', err);
    if (claim === 'aud' || claim === 'azp') return upstreamError('audience_mismatch', err);
    return upstreamError('malformed', err);
  }
  if (/"nonce"/.test(text)) return upstreamError('nonce_mismatch', err);
  if (/"iss" \(issuer\)/.test(text)) return upstreamError('issuer_mismatch', err);
  if (/"state"/.test(text)) return upstreamError('state_mismatch', err);
  if (codes.includes('OAUTH_KEY_SELECTION_FAILED') || /signature|"alg"|JWS algorithm/i.test(text)) return upstreamError('signature_invalid', err);
  if (
    codes.includes('OAUTH_RESPONSE_IS_NOT_CONFORM') ||
    codes.includes('OAUTH_RESPONSE_IS_NOT_JSON') ||
    links.some((e) => e.name === 'AbortError' || e.name === 'TimeoutError' || (e.name === 'TypeError' && /fetch failed/.test(String(e.message))))
  ) {
    return upstreamError('upstream_unavailable', err);
  }
  if (err instanceof ClientError || codes.length) return upstreamError('malformed', err);
  return upstreamError('malformed', err);
}
