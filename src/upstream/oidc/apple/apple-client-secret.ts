import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import type * as oidc from 'openid-client';
import { toPkcs8 } from '../../oauth-client/private-key.js';
import type { AppleConfig } from './apple.config.js';

/** The `aud` Apple requires in a client secret, whatever URL its endpoints are reached at. */
export const APPLE_AUDIENCE = 'https://appleid.apple.com';

/**
 * Sign in with Apple's client secret (Apple, "Creating a client secret"): an ES256 JWT with
 * header `{alg: ES256, kid: <key id>}` and claims `iss` = team id, `iat`, `exp` (at most six months
 * later), `aud` = https://appleid.apple.com, `sub` = the client id (Services ID). One is kept and
 * reused, and a new one signed once half its lifetime has passed, so a secret in use is never close
 * to expiry.
 */
export class AppleClientSecret {
  private key?: Promise<CryptoKey>;
  private cached?: { jwt: string; iat: number; exp: number };

  constructor(
    private readonly apple: AppleConfig,
    private readonly clientId: string,
    /** Seconds since the epoch (injectable for tests). */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async current(): Promise<string> {
    const now = this.now();
    const c = this.cached;
    if (c && now >= c.iat && now < c.iat + (c.exp - c.iat) / 2) return c.jwt;
    this.key ??= importPKCS8(toPkcs8(this.apple.private_key), 'ES256');
    const exp = now + this.apple.client_secret_ttl;
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.apple.key_id })
      .setIssuer(this.apple.team_id)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setAudience(APPLE_AUDIENCE)
      .setSubject(this.clientId)
      .sign(await this.key);
    this.cached = { jwt, iat: now, exp };
    return jwt;
  }
}

/** Apple's token endpoint authentication: `client_secret_post` with the current generated secret. */
export function appleClientAuth(secret: AppleClientSecret): oidc.ClientAuth {
  return async (_as, client, body) => {
    body.set('client_id', client.client_id);
    body.set('client_secret', await secret.current());
  };
}
