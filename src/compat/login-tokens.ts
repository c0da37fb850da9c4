import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { randomAlphanumeric, sha256Hex } from '../crypto/token-format.js';
import { KeyValueStore } from '../storage/kv-store.js';

/** Kept a while after it stopped being valid, so a late exchange is told "expired" rather than "invalid". */
const RETENTION_S = 600;

export interface LoginTokenGrant {
  userId: string;
  browserSessionId: string;
  /** Host the token was sent to (the SSO `redirectUrl`), recorded on the session. */
  redirectHost: string;
  /** When the SSO login completed (ms): the token is valid for `compat.login_token_ttl` (30 s) from then. */
  fulfilledAt: number;
}

export type TakenLoginToken = { ok: true; grant: LoginTokenGrant } | { ok: false; reason: 'unknown' | 'expired' };

const key = (token: string) => `compat-login-token:${sha256Hex(token)}`;

/**
 * The single-use `loginToken` of `m.login.token` (32 alphanumerics, as MAS), kept only as a hash in
 * the KeyValueStore (Redis or the database, so any replica can redeem it). Taking it deletes it: a
 * second exchange finds nothing.
 */
@Injectable()
export class LoginTokens {
  private readonly validityMs: number;

  constructor(
    private readonly kv: KeyValueStore,
    @Inject(CONFIG) config: GatewayConfig,
  ) {
    this.validityMs = config.compat.login_token_ttl * 1000;
  }

  async issue(grant: Omit<LoginTokenGrant, 'fulfilledAt'>, now = Date.now()): Promise<string> {
    const token = randomAlphanumeric(32);
    const value: LoginTokenGrant = { ...grant, fulfilledAt: now };
    await this.kv.set(key(token), JSON.stringify(value), this.validityMs / 1000 + RETENTION_S);
    return token;
  }

  async take(token: string, now = Date.now()): Promise<TakenLoginToken> {
    // Anything that is not 32 alphanumerics was never issued: no lookup.
    if (!/^[A-Za-z0-9]{32}$/.test(token)) return { ok: false, reason: 'unknown' };
    const raw = await this.kv.take(key(token));
    if (!raw) return { ok: false, reason: 'unknown' };
    const grant = JSON.parse(raw) as LoginTokenGrant;
    if (now > grant.fulfilledAt + this.validityMs) return { ok: false, reason: 'expired' };
    return { ok: true, grant };
  }
}
