import { timingSafeEqual } from 'node:crypto';
import { sha256Base64Url } from '../../crypto/token-format.js';

/** RFC 7636. Only S256 (plain is refused everywhere, contract §3.2 / RFC 9700). */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const isValidCodeChallenge = (c: string) => CHALLENGE.test(c);
export const isValidCodeVerifier = (v: string) => VERIFIER.test(v);

/** BASE64URL(SHA256(verifier)) == challenge, compared in constant time. */
export function verifyPkce(verifier: string, challenge: string): boolean {
  if (!isValidCodeVerifier(verifier) || !isValidCodeChallenge(challenge)) return false;
  return timingSafeEqual(Buffer.from(sha256Base64Url(verifier)), Buffer.from(challenge));
}
