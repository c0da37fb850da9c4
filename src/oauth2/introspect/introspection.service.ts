import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { MetricsService } from '../../health/metrics.service.js';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { SessionActivity, type ActiveSessionKind } from '../sessions/session-activity.js';
import { parseToken, sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { OAuth2TokenRepository } from '../../storage/repositories/oauth2-token.repository.js';
import { ADMIN_SCOPE, API_SCOPE, isScopeToken, NAMESPACE_PREFIX, withBothNamespaces } from '../scopes/scope.js';
import { IntrospectionCache, type CachedToken } from './introspection-cache.js';
import { TokenLookup, type CompatTokenRow, type TokenRow } from './token-lookup.js';
import { Clock, SystemClock } from '../../clock/clock.js';

export const INACTIVE_JSON = '{"active":false}';

/**
 * RFC 7662 answers in the shape Synapse reads (docs/contracts/synapse.md §2.2, §2.7). Anything that
 * is not a live token of a user who may sign in is `{"active": false}` (never an error: Synapse
 * turns any other status into a 503). Malformed tokens are refused from their shape alone.
 */
@Injectable()
export class IntrospectionService implements OnModuleInit, OnModuleDestroy {
  private lookup!: TokenLookup;
  private readonly hits: Counter.Internal;
  private readonly misses: Counter.Internal;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly cache: IntrospectionCache,
    metrics: MetricsService,
    private readonly activity: SessionActivity,
    private readonly tokens: OAuth2TokenRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {
    const lookups = metrics.counter('causeway_introspection_cache_lookups_total', 'Introspections answered from the in-process cache (hit) or not (miss)', ['result']);
    this.hits = lookups.labels({ result: 'hit' });
    this.misses = lookups.labels({ result: 'miss' });
  }

  onModuleInit() {
    this.lookup = TokenLookup.for(this.db.kind, this.db.dataSource);
  }

  async onModuleDestroy() {
    await this.lookup?.close();
  }

  /**
   * The answer as JSON text (the endpoint's hot path). A cached answer is returned synchronously and
   * serialised once; anything else takes the async path through the database.
   */
  introspectJson(token: string, hint: string | undefined, supportsDeviceId: boolean): string | Promise<string> {
    const now = this.clock.now();
    const kind = kindFor(token, hint);
    if (!kind) return INACTIVE_JSON;
    const hash = sha256Hex(token);
    const cached = this.cache.get(hash, now);
    if (cached) {
      this.hits.inc();
      return serialise(cached, now, supportsDeviceId);
    }
    if (this.cache.enabled) this.misses.inc();
    return this.lookupAndCache(hash, kind, now).then((entry) => (entry ? serialise(entry, now, supportsDeviceId) : INACTIVE_JSON));
  }

  async introspect(token: string, hint: string | undefined, supportsDeviceId: boolean): Promise<Record<string, unknown>> {
    return JSON.parse(await this.introspectJson(token, hint, supportsDeviceId)) as Record<string, unknown>;
  }

  private async lookupAndCache(hash: string, kind: IntrospectedKind, now: number): Promise<CachedToken | undefined> {
    const mark = this.cache.mark;
    let entry: CachedToken;
    if (kind === 'compat_access' || kind === 'compat_refresh') {
      const row = kind === 'compat_access' ? await this.lookup.compatAccess(hash) : await this.lookup.compatRefresh(hash);
      if (!row || !isLive(row, now, kind === 'compat_access' ? 'access' : 'refresh') || this.idle('compat', row, now)) return undefined;
      this.activity.record('compat', row.session_id, now);
      entry = { ...describeCompat(row, kind), expiresAt: row.expires_at, storedAt: now };
    } else {
      // A personal access token is an access token of a personal session (same table, same answer).
      const as = kind === 'refresh' ? 'refresh' : 'access';
      const row = as === 'access' ? await this.lookup.access(hash) : await this.lookup.refresh(hash);
      // Personal access tokens are not subject to sessions.inactive_after (session-lifecycle.ts).
      if (!row || !isLive(row, now, as) || (kind !== 'personal' && this.idle('oauth', row, now))) return undefined;
      this.activity.record('oauth', row.session_id, now);
      if (as === 'access' && row.used_at === null) await this.markUsed(row.id, now);
      entry = { body: describe(row, as), expiresAt: row.expires_at, storedAt: now };
    }
    this.cache.set(hash, entry, mark);
    return entry;
  }

  /**
   * Not used for `sessions.inactive_after`: the lifecycle sweep ends such a session (and removes
   * its device) on its next run; until then the token already answers inactive, so a late use
   * does not revive it.
   */
  private idle(kind: ActiveSessionKind, row: Pick<TokenRow, 'session_id' | 'last_active_at'>, now: number): boolean {
    const idleMs = this.config.sessions.inactive_after * 1000;
    if (idleMs <= 0 || row.last_active_at === null) return false;
    const last = Math.max(row.last_active_at, this.activity.lastSeen(kind, row.session_id) ?? 0);
    return now - last >= idleMs;
  }

  /** A live access token's row (userinfo), or undefined. */
  async liveAccessToken(token: string): Promise<TokenRow | undefined> {
    const kind = parseToken(token);
    if (kind !== 'access' && kind !== 'personal') return undefined;
    const now = this.clock.now();
    const row = await this.lookup.access(sha256Hex(token));
    if (!row || !isLive(row, now, 'access') || (kind !== 'personal' && this.idle('oauth', row, now))) return undefined;
    this.activity.record('oauth', row.session_id, now);
    if (row.used_at === null) await this.markUsed(row.id, now);
    return row;
  }

  /** The first use of an access token ends the refresh retry window (refresh-token.grant.ts). */
  private async markUsed(id: string, now: number) {
    await this.tokens.markFirstUsed(id, now);
  }
}

/**
 * The token's kind if it is well formed (checksum included, no I/O) and matches the hint. A
 * token_type_hint that does not match the token is answered inactive, as MAS does: Synapse asks
 * with access_token and must never accept a refresh token as one.
 */
function kindFor(token: string, hint: string | undefined): IntrospectedKind | undefined {
  const kind = parseToken(token);
  if (kind === 'access' || kind === 'compat_access' || kind === 'personal') return hint === undefined || hint === 'access_token' ? kind : undefined;
  if (kind === 'refresh' || kind === 'compat_refresh') return hint === undefined || hint === 'refresh_token' ? kind : undefined;
  return undefined;
}

type IntrospectedKind = 'access' | 'refresh' | 'compat_access' | 'compat_refresh' | 'personal';
type LivenessFields = Pick<TokenRow, 'revoked_at' | 'finished_at' | 'expires_at' | 'used_at' | 'user_id' | 'localpart' | 'locked_at' | 'deactivated_at'>;

function isLive(row: LivenessFields, now: number, kind: 'access' | 'refresh'): boolean {
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

/**
 * A compat (`/login`) token as MAS answers it (docs/contracts/synapse.md §2.7): `client_id` "legacy",
 * both API scopes, `exp` only when the token expires. A compat session is a Synapse admin only when
 * it was imported from Synapse for an admin (its token was an admin's before the switch); otherwise
 * admin is granted only through an interactive OAuth grant that asks for it. Callers that send
 * X-MAS-Supports-Device-Id get the device as `device_id`; the others get it in the scope, or
 * `{"active": false}` when the device id cannot be a scope token.
 */
function describeCompat(row: CompatTokenRow, kind: 'compat_access' | 'compat_refresh'): Pick<CachedToken, 'body' | 'legacyBody'> {
  const iat = Math.floor(row.created_at / 1000);
  const base = (scope: string[]) => ({
    active: true,
    scope: scope.join(' '),
    client_id: 'legacy',
    username: row.localpart,
    sub: row.user_id,
    token_type: kind === 'compat_access' ? 'access_token' : 'refresh_token',
    iat,
    nbf: iat,
    ...(row.expires_at !== null ? { exp: Math.floor(row.expires_at / 1000) } : {}),
  });
  const deviceScope = `${NAMESPACE_PREFIX.stable}device:${row.device_id}`;
  const admin = row.synapse_admin ? [ADMIN_SCOPE] : [];
  return {
    body: { ...base([...withBothNamespaces([API_SCOPE.stable]), ...admin]), device_id: row.device_id },
    legacyBody: isScopeToken(deviceScope) ? base([...withBothNamespaces([API_SCOPE.stable, deviceScope]), ...admin]) : null,
  };
}

/**
 * `expires_in` is relative to now (Synapse adds it to the time it received the answer); integers
 * only. With X-MAS-Supports-Device-Id the device is also given as a field (it is always in the scope).
 */
function serialise(entry: CachedToken, now: number, supportsDeviceId: boolean): string {
  const withDevice = supportsDeviceId && !!entry.body.device_id;
  const slot = withDevice ? 1 : 0;
  entry.json ??= [undefined, undefined];
  let prefix = entry.json[slot];
  if (prefix === undefined) {
    prefix = answerPrefix(entry, withDevice);
    entry.json[slot] = prefix;
  }
  if (prefix === null) return INACTIVE_JSON;
  return entry.expiresAt === null ? `${prefix}}` : `${prefix},"expires_in":${Math.max(0, Math.floor((entry.expiresAt - now) / 1000))}}`;
}

/** The answer without its closing brace (null: inactive for this caller). */
function answerPrefix(entry: CachedToken, withDevice: boolean): string | null {
  if (!withDevice && entry.legacyBody !== undefined) return entry.legacyBody === null ? null : JSON.stringify(entry.legacyBody).slice(0, -1);
  const { device_id, ...rest } = entry.body;
  return JSON.stringify(withDevice ? { ...rest, device_id } : rest).slice(0, -1);
}
