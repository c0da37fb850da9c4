import type { Redis } from 'ioredis';
import { KvEntryEntity } from './entities/index.js';
import type { Database } from './database.service.js';
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

export class DbKeyValueStore extends KeyValueStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }
  /** Placeholders: `$1` (PostgreSQL) or `?` (SQLite). */
  private sql(text: string): string {
    return this.db.kind === 'postgres' ? text : text.replace(/\$\d+/g, '?');
  }
  private async write<T>(text: string, params: unknown[]): Promise<T[]> {
    // Through the unit of work: on SQLite a bare statement could land inside another request's transaction.
    // Structured result: TypeORM's plain query() returns [rows, count] for DELETE/UPDATE on PostgreSQL.
    return this.db.transaction(async (em) => (await em.queryRunner!.query(this.sql(text), params, true)).records as T[]);
  }
  async get(key: string) {
    const row = await this.db.manager.findOneBy(KvEntryEntity, { key });
    return row && row.expires_at > this.now() ? row.value : undefined;
  }
  async set(key: string, value: string, ttlSeconds: number) {
    await this.write(
      'INSERT INTO kv_entries (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      [key, value, this.now() + ttlSeconds * 1000],
    );
  }
  async take(key: string) {
    const rows = await this.write<{ value: string; expires_at: string | number }>(
      'DELETE FROM kv_entries WHERE key = $1 RETURNING value, expires_at',
      [key],
    );
    const row = rows[0];
    return row && Number(row.expires_at) > this.now() ? row.value : undefined;
  }
  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    const now = this.now();
    const rows = await this.write(
      'INSERT INTO kv_entries (key, value, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at WHERE kv_entries.expires_at <= $4 RETURNING key',
      [key, value, now + ttlSeconds * 1000, now],
    );
    return rows.length === 1;
  }
  async delete(key: string) {
    await this.write('DELETE FROM kv_entries WHERE key = $1', [key]);
  }
  async deleteIfEquals(key: string, value: string) {
    await this.write('DELETE FROM kv_entries WHERE key = $1 AND value = $2', [key, value]);
  }
  /** Removes expired entries; called periodically. */
  async sweep() {
    await this.write('DELETE FROM kv_entries WHERE expires_at < $1', [this.now()]);
  }
}
