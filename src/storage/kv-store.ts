import type { Redis } from 'ioredis';
import type { Database, HotStatement } from './database.service.js';
import { COMPARE_AND_DELETE } from './redis.js';

/**
 * Short-lived keyed values shared by all replicas: login machine snapshots, single-use upstream
 * states, replay caches. Redis when configured, else the database.
 */
export abstract class KeyValueStore {
  abstract get(key: string): Promise<string | undefined>;
  abstract set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Atomically reads and deletes: the value can be taken once (single-use states, codes). */
  abstract take(key: string): Promise<string | undefined>;
  /** Stores only if absent (or expired); false means the key was already there (a replay). */
  abstract setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  abstract delete(key: string): Promise<void>;
  /** Deletes the key only if it still holds `value` (an owner releasing its own lock). */
  abstract deleteIfEquals(key: string, value: string): Promise<void>;
}

export class RedisKeyValueStore extends KeyValueStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
  }
  async get(key: string) {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }
  async set(key: string, value: string, ttlSeconds: number) {
    await this.redis.set(this.prefix + key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }
  async take(key: string) {
    return (await this.redis.getdel(this.prefix + key)) ?? undefined;
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.redis.set(this.prefix + key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX')) === 'OK';
  }
  async delete(key: string) {
    await this.redis.del(this.prefix + key);
  }
  async deleteIfEquals(key: string, value: string) {
    await this.redis.eval(COMPARE_AND_DELETE, 1, this.prefix + key, value);
  }
}

/** The key-value statements, one per dialect (placeholders differ), run by `Database.hot`. */
const both = (name: string, text: string) => ({ name: `causeway_kv_${name}`, postgres: text, sqlite: text.replace(/\$\d+/g, '?') });
const KV = {
  get: both('get', 'SELECT value, expires_at FROM kv_entries WHERE key = $1'),
  set: both('set', 'INSERT INTO kv_entries (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at'),
  take: both('take', 'DELETE FROM kv_entries WHERE key = $1 RETURNING value, expires_at'),
  setIfAbsent: both(
    'set_if_absent',
    'INSERT INTO kv_entries (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at WHERE kv_entries.expires_at <= $4 RETURNING key',
  ),
  delete: both('delete', 'DELETE FROM kv_entries WHERE key = $1'),
  deleteIfEquals: both('delete_if_equals', 'DELETE FROM kv_entries WHERE key = $1 AND value = $2'),
  sweep: both('sweep', 'DELETE FROM kv_entries WHERE expires_at < $1'),
} satisfies Record<string, HotStatement>;

type Entry = { value: string; expires_at: string | number | bigint };

/**
 * The database as the key-value store. Every operation is one statement, atomic by itself, so it
 * runs as a hot statement (prepared, without TypeORM and without a transaction around it: on
 * PostgreSQL one round trip instead of three; on SQLite queued behind the open transaction, so it
 * never lands inside another request's). A login writes and reads its snapshot this way on every step.
 */
export class DbKeyValueStore extends KeyValueStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }
  private live(row: Entry | undefined): string | undefined {
    return row && Number(row.expires_at) > this.now() ? row.value : undefined;
  }
  async get(key: string) {
    return this.live((await this.db.hot<Entry>(KV.get, [key]))[0]);
  }
  async set(key: string, value: string, ttlSeconds: number) {
    await this.db.hot(KV.set, [key, value, this.now() + ttlSeconds * 1000]);
  }
  async take(key: string) {
    return this.live((await this.db.hot<Entry>(KV.take, [key]))[0]);
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    const now = this.now();
    return (await this.db.hot(KV.setIfAbsent, [key, value, now + ttlSeconds * 1000, now])).length === 1;
  }
  async delete(key: string) {
    await this.db.hot(KV.delete, [key]);
  }
  async deleteIfEquals(key: string, value: string) {
    await this.db.hot(KV.deleteIfEquals, [key, value]);
  }
  /** Removes expired entries; called periodically. */
  async sweep() {
    await this.db.hot(KV.sweep, [this.now()]);
  }
}
