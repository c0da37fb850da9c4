import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { REDIS } from '../../storage/storage.module.js';

export interface CachedToken {
  /** The introspection answer without the time-dependent fields. */
  body: Record<string, unknown>;
  /**
   * Compat tokens only: the answer for callers without X-MAS-Supports-Device-Id (device in the
   * scope instead of `device_id`); null = inactive for them (the device id cannot be a scope token).
   */
  legacyBody?: Record<string, unknown> | null;
  /** The answer serialised without its closing brace, without and with `device_id` (filled on first use; null = inactive). */
  json?: [string | null | undefined, string | null | undefined];
  /** Expiry of the token (ms), null = none. */
  expiresAt: number | null;
  storedAt: number;
}

/**
 * A short-lived in-process cache of introspection answers, keyed by token hash. Anything that
 * revokes tokens calls `invalidateTokens()` with their hashes once its change has committed: the
 * local entries go at once and, with Redis, every other replica is told over pub/sub. Other
 * tokens' answers stay cached (a sign-out storm must not turn every introspection into a database
 * read). A generation counter stops a lookup that started before an invalidation from storing its
 * (stale) answer after it.
 */
@Injectable()
export class IntrospectionCache implements OnModuleInit, OnModuleDestroy {
  private readonly entries = new Map<string, CachedToken>();
  private generation = 0;
  private readonly ttlMs: number;
  private readonly channel: string;
  private subscriber?: Redis;
  private pendingHashes: string[] = [];
  private publishScheduled = false;
  private static readonly MAX = 100_000;

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {
    this.ttlMs = config.tokens.introspection_cache_ttl * 1000;
    this.channel = `${config.redis?.key_prefix ?? 'causeway:'}introspection:invalidate`;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  async onModuleInit() {
    if (!this.enabled || !this.redis) return;
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel: string, message: string) => {
      // '*' (clear everything) is what older versions published: honoured during a rolling upgrade.
      if (message === '*') this.clearLocal();
      else this.dropLocal(message.split(','));
    });
    // A reconnect may have missed messages: start clean.
    this.subscriber.on('ready', () => this.clearLocal());
    await this.subscriber.subscribe(this.channel);
  }

  async onModuleDestroy() {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  /** Current generation: pass it back to `set` so a stale answer is not stored. */
  get mark(): number {
    return this.generation;
  }

  get(hash: string, now: number): CachedToken | undefined {
    if (!this.enabled) return undefined;
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (now - e.storedAt > this.ttlMs || (e.expiresAt !== null && e.expiresAt <= now)) {
      this.entries.delete(hash);
      return undefined;
    }
    return e;
  }

  set(hash: string, entry: CachedToken, mark: number): void {
    if (!this.enabled || mark !== this.generation) return;
    if (this.entries.size >= IntrospectionCache.MAX) this.entries.clear();
    this.entries.set(hash, entry);
  }

  private clearLocal(): void {
    this.generation++;
    this.entries.clear();
  }

  private dropLocal(hashes: string[]): void {
    this.generation++;
    for (const h of hashes) this.entries.delete(h);
  }

  /** After these tokens (SHA-256 hex) were revoked (committed): a session end, a refresh, a revocation. */
  invalidateTokens(hashes: string[]): void {
    if (hashes.length === 0) return;
    this.dropLocal(hashes);
    this.publish(hashes);
  }

  /**
   * Tells the other replicas. What is invalidated in one tick goes out as one message (a sign-out
   * storm would otherwise be a Redis round trip per sign-out); this replica dropped its own at once.
   */
  private publish(hashes: string[]): void {
    if (!this.enabled || !this.redis) return;
    this.pendingHashes.push(...hashes);
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    setImmediate(() => {
      const message = this.pendingHashes.join(',');
      this.pendingHashes = [];
      this.publishScheduled = false;
      this.redis!.publish(this.channel, message).catch(() => undefined);
    });
  }
}
