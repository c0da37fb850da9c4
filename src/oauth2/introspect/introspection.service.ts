import { Injectable, type OnModuleInit } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { parseToken, sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { AccessTokenEntity } from '../../storage/entities/index.js';
import { withBothNamespaces } from '../scopes/scope.js';
import { IntrospectionCache } from './introspection-cache.js';
import { TokenLookup, type TokenRow } from './token-lookup.js';

export const INACTIVE = Object.freeze({ active: false });

/**
 * RFC 7662 answers in the shape Synapse reads (contracts/synapse-mas.md §2.2, §2.7). Anything that
 * is not a live token of a user who may sign in is `{"active": false}` (never an error: Synapse
 * turns any other status into a 503). Malformed tokens are refused from their shape alone.
 */
@Injectable()
export class IntrospectionService implements OnModuleInit {
  private lookup!: TokenLookup;

  constructor(
    private readonly db: Database,
    private readonly cache: IntrospectionCache,
  ) {}

  onModuleInit() {
    this.lookup = TokenLookup.for(this.db.kind, this.db.dataSource);
  }

  async introspect(token: string, hint: string | undefined, supportsDeviceId: boolean): Promise<Record<string, unknown>> {
    const kind = parseToken(token);
    // A token_type_hint that does not match the token is answered inactive, as MAS does: Synapse
    // asks with access_token and must never accept a refresh token as one.
    if (kind === 'access') {
      if (hint !== undefined && hint !== 'access_token') return INACTIVE;
    } else if (kind === 'refresh') {
      if (hint !== undefined && hint !== 'refresh_token') return INACTIVE;
    } else return INACTIVE;

    const hash = sha256Hex(token);
    const now = Date.now();
    const cached = this.cache.get(hash, now);
    if (cached) return answer(cached.body, cached.expiresAt, now, supportsDeviceId);

    const mark = this.cache.mark;
    const row = kind === 'access' ? await this.lookup.access(hash) : await this.lookup.refresh(hash);
    if (!row || !isLive(row, now, kind)) return INACTIVE;
    if (kind === 'access' && row.used_at === null) await this.markUsed(row.id, now);
    const body = describe(row, kind);
    this.cache.set(hash, { body, expiresAt: row.expires_at, storedAt: now }, mark);
    return answer(body, row.expires_at, now, supportsDeviceId);
  }

  /** A live access token's row (userinfo), or undefined. */
  async liveAccessToken(token: string): Promise<TokenRow | undefined> {
    if (parseToken(token) !== 'access') return undefined;
    const now = Date.now();
    const row = await this.lookup.access(sha256Hex(token));
    if (!row || !isLive(row, now, 'access')) return undefined;
    if (row.used_at === null) await this.markUsed(row.id, now);
    return row;
  }

  /** The first use of an access token ends the refresh retry window (refresh-token.grant.ts). */
  private async markUsed(id: string, now: number) {
    await this.db.transaction((em) => em.update(AccessTokenEntity, { id, first_used_at: IsNull() }, { first_used_at: now }));
  }
}

function isLive(row: TokenRow, now: number, kind: 'access' | 'refresh'): boolean {
  if (row.revoked_at !== null || row.finished_at !== null) return false;
  if (row.expires_at !== null && row.expires_at <= now) return false;
  if (kind === 'refresh' && row.used_at !== null) return false;
  if (row.user_id !== null && (row.localpart === null || row.locked_at !== null || row.deactivated_at !== null)) return false;
  return true;
}

function describe(row: TokenRow, kind: 'access' | 'refresh'): Record<string, unknown> {
  const iat = Math.floor(row.created_at / 1000);
  return {
    active: true,
    scope: withBothNamespaces(row.scope.split(' ')).join(' '),
    client_id: row.client_id,
    ...(row.localpart !== null ? { username: row.localpart, sub: row.user_id } : {}),
    token_type: kind === 'access' ? 'access_token' : 'refresh_token',
    iat,
    nbf: iat,
    ...(row.expires_at !== null ? { exp: Math.floor(row.expires_at / 1000) } : {}),
    jti: row.id,
    device_id: row.device_id,
  };
}

/** `expires_in` is relative to now (Synapse adds it to the time it received the answer); integers only. */
function answer(body: Record<string, unknown>, expiresAt: number | null, now: number, supportsDeviceId: boolean): Record<string, unknown> {
  const { device_id, ...rest } = body;
  const out: Record<string, unknown> = { ...rest };
  if (expiresAt !== null) out.expires_in = Math.max(0, Math.floor((expiresAt - now) / 1000));
  // X-MAS-Supports-Device-Id: the device is also given as a field (it is always in the scope).
  if (supportsDeviceId && device_id) out.device_id = device_id;
  return out;
}
