import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
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
 *
 * Bounded by entries and by (estimated) bytes, `tokens.introspection_cache_max_entries` /
 * `_max_bytes`: the least recently used answers go first, so a burst of distinct tokens cannot grow
 * the process without limit.
 */
@Injectable()
export class IntrospectionCache implements OnModuleInit, OnModuleDestroy {
  private readonly entries: LRUCache<string, CachedToken>;
  private generation = 0;
  private readonly ttlMs: number;
  private readonly channel: string;
  private subscriber?: Redis;
  private pendingHashes: string[] = [];
  private publishScheduled = false;

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {
    this.ttlMs = config.tokens.introspection_cache_ttl * 1000;
    this.entries = new LRUCache({ max: config.tokens.introspection_cache_max_entries ?? 100_000, maxSize: config.tokens.introspection_cache_max_bytes ?? 128 * 1024 * 1024, sizeCalculation: entryBytes });
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
    this.entries.set(hash, entry);
  }

  /** Entries held now, and their estimated bytes (tests, bench). */
  get stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
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

/**
 * An estimate of what one entry holds: the key (64 hex characters) and the answer's strings (V8
 * keeps ASCII strings at a byte a character), the serialised answer filled on first use (about the
 * same again) and a fixed overhead for the objects and the cache's bookkeeping. Counted once, when
 * the entry is stored. Measured: a typical Matrix answer estimates at ~1.4 KB, as its live V8 heap
 * size; the process's RSS grows about twice that per cached answer (heap headroom; bench/memory).
 */
export function entryBytes(entry: CachedToken, key: string): number {
  let chars = key.length;
  for (const body of [entry.body, entry.legacyBody]) {
    if (!body) continue;
    for (const k in body) {
      const v = body[k];
      chars += k.length + (typeof v === 'string' ? v.length : 8);
    }
  }
  return chars * 2 + 550;
}
