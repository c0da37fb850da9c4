import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.6: validation of a Logout Token. Pure apart from the
 * key lookup (the IdP's JWKS) and the `jti` replay cache, both passed in.
 */

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Asymmetric algorithms only: a logout token is signed with the IdP's JWKS keys, never a shared secret, never `none`. */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** How old a logout token may be (its `iat`), beyond the clock skew. The jti cache remembers tokens at least this long. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;

export interface LogoutTokenExpectations {
  issuer: string;
  clientId: string;
  keys: JWTVerifyGetKey;
  clockSkewSeconds: number;
  now?: Date;
}

export interface VerifiedLogoutToken {
  sid?: string;
  sub?: string;
  jti: string;
  iat: number;
}

/** Why a logout token was refused (the `error_description` of the 400 answer; no token content). */
export class LogoutTokenError extends Error {
  constructor(
    readonly reason: 'malformed' | 'signature_invalid' | 'issuer_mismatch' | 'audience_mismatch' | 'expired' | 'bad_typ' | 'bad_events' | 'no_subject' | 'nonce_present' | 'no_jti' | 'replayed' | 'keys_unavailable',
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'LogoutTokenError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function verifyLogoutToken(token: string, x: LogoutTokenExpectations): Promise<VerifiedLogoutToken> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    throw new LogoutTokenError('malformed', 'logout_token is not a signed JWT', e);
  }
  if (token.split('.').length !== 3) throw new LogoutTokenError('malformed', 'logout_token is not a signed JWT');
  if (typeof header.alg !== 'string' || !ASYMMETRIC_ALGS.includes(header.alg)) {
    throw new LogoutTokenError('signature_invalid', 'logout_token must be signed with an asymmetric algorithm');
  }
  // §2.4: typ is RECOMMENDED; when present it must say logout+jwt.
  if (header.typ !== undefined && !/^(application\/)?logout\+jwt$/i.test(String(header.typ))) {
    throw new LogoutTokenError('bad_typ', 'logout_token has an unexpected typ');
  }

  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(token, x.keys, {
      issuer: x.issuer,
      audience: x.clientId,
      algorithms: ASYMMETRIC_ALGS,
      clockTolerance: x.clockSkewSeconds,
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      requiredClaims: ['iat', 'jti', 'events'],
      currentDate: x.now,
    }));
  } catch (e) {
    throw joseFailure(e);
  }

  const events = claims.events;
  if (!isObject(events) || !isObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new LogoutTokenError('bad_events', `logout_token events must contain ${BACKCHANNEL_LOGOUT_EVENT} as an object`);
  }
  if (Object.hasOwn(claims, 'nonce')) throw new LogoutTokenError('nonce_present', 'logout_token must not contain a nonce');
  const sid = claims.sid;
  const sub = claims.sub;
  if (sid !== undefined && (typeof sid !== 'string' || !sid)) throw new LogoutTokenError('malformed', 'logout_token sid must be a string');
  if (sub !== undefined && (typeof sub !== 'string' || !sub)) throw new LogoutTokenError('malformed', 'logout_token sub must be a string');
  if (sid === undefined && sub === undefined) throw new LogoutTokenError('no_subject', 'logout_token must contain sid or sub');
  if (typeof claims.jti !== 'string' || !claims.jti) throw new LogoutTokenError('no_jti', 'logout_token must contain a jti');

  return { sid: sid as string | undefined, sub: sub as string | undefined, jti: claims.jti, iat: claims.iat as number };
}

function joseFailure(e: unknown): LogoutTokenError {
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.reason === 'missing') return new LogoutTokenError('malformed', `logout_token has no ${e.claim} claim`, e);
    switch (e.claim) {
      case 'iss':
        return new LogoutTokenError('issuer_mismatch', 'logout_token iss is not this provider', e);
      case 'aud':
        return new LogoutTokenError('audience_mismatch', 'logout_token aud is not this client', e);
      case 'iat':
      case 'nbf':
        return new LogoutTokenError('expired', 'logout_token iat is outside the accepted window', e);
      default:
        return new LogoutTokenError('malformed', `logout_token claim ${e.claim} is missing or invalid`, e);
    }
  }
  if (e instanceof joseErrors.JWTExpired) return new LogoutTokenError('expired', 'logout_token is too old or expired', e);
  if (e instanceof joseErrors.JWSSignatureVerificationFailed || e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JOSEAlgNotAllowed) {
    return new LogoutTokenError('signature_invalid', 'logout_token signature is not from this provider', e);
  }
  if (e instanceof joseErrors.JWKSTimeout || (e instanceof Error && /fetch failed|ECONNREFUSED|Expected 200 OK|JSON Web Key Set/i.test(e.message))) {
    return new LogoutTokenError('keys_unavailable', 'the provider’s signing keys cannot be fetched right now', e);
  }
  return new LogoutTokenError('malformed', 'logout_token is not a valid JWT', e);
}

/** KeyValueStore key of a logout token's jti (hashed: bounded length whatever the IdP sends). */
export function logoutJtiKey(providerId: string, jti: string): string {
  return `oidc:bcl-jti:${providerId}:${createHash('sha256').update(jti).digest('base64url')}`;
}

/** How long a jti is remembered: every token still inside the iat window must be caught. */
export function jtiMemorySeconds(clockSkewSeconds: number): number {
  return LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * clockSkewSeconds + 60;
}
