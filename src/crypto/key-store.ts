import { SignJWT, type JWK, type JWTPayload } from 'jose';
import type { SigningAlg, SigningKey } from './keys.js';

/** The loaded signing keys: publishes the JWKS and signs JWTs (ID tokens). */
export class KeyStore {
  constructor(private readonly keys: SigningKey[]) {
    if (keys.length === 0) throw new Error('no signing keys');
  }

  get jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  get algorithms(): SigningAlg[] {
    return [...new Set(this.keys.map((k) => k.alg))];
  }

  /** The key for `alg` (the first of its kind), defaulting to RS256 as OIDC requires. */
  keyFor(alg: SigningAlg = 'RS256'): SigningKey {
    return this.keys.find((k) => k.alg === alg) ?? this.keys[0]!;
  }

  async sign(payload: JWTPayload, opts: { alg?: SigningAlg; typ?: string } = {}): Promise<string> {
    const key = this.keyFor(opts.alg);
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...(opts.typ ? { typ: opts.typ } : {}) }).sign(key.privateKey);
  }
}
