import type { Redis } from 'ioredis';
import type { Database } from './database.service.js';
import { COMPARE_AND_DELETE } from './redis.js';

/**
 * Leases: a key holding the owner's name with a TTL. Renew and release only if we still own it,
 * so a process that lost its lease (paused too long) cannot take it back from the new owner.
 */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export class Leases {
  constructor(
    private readonly redis: Redis,
    readonly owner: string,
    readonly ttlMs: number,
  ) {}

  async acquire(key: string): Promise<boolean> {
    return (await this.redis.set(key, this.owner, 'PX', this.ttlMs, 'NX')) === 'OK';
  }
  async renew(key: string): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, key, this.owner, String(this.ttlMs))) === 1;
  }
  async release(key: string): Promise<void> {
    await this.redis.eval(COMPARE_AND_DELETE, 1, key, this.owner);
  }
  /** Who holds the lease now, if anyone. */
  async holder(key: string): Promise<string | undefined> {
    return (await this.redis.get(key)) ?? undefined;
  }
}

/** One named lease held by one owner: Redis when configured, else a row of the database. */
export interface Lease {
  readonly owner: string;
  acquire(): Promise<boolean>;
  renew(): Promise<boolean>;
  release(): Promise<void>;
  holder(): Promise<string | undefined>;
}

export class RedisLease implements Lease {
  private readonly leases: Leases;
  constructor(
    redis: Redis,
    private readonly key: string,
    readonly owner: string,
    ttlMs: number,
  ) {
    this.leases = new Leases(redis, owner, ttlMs);
  }
  acquire() {
    return this.leases.acquire(this.key);
  }
  renew() {
    return this.leases.renew(this.key);
  }
  release() {
    return this.leases.release(this.key);
  }
  holder() {
    return this.leases.holder(this.key);
  }
}

/** Keys of database leases in kv_entries (the retention of expired entries leaves them alone). */
export const DB_LEASE_PREFIX = 'lease:';

/**
 * A lease in the `kv_entries` table, for deployments without Redis (one server, plus the
 * `causeway manage` CLI). Every change is one conditional statement. Expiry is wall-clock time,
 * never a test clock: a lease must expire when its holder stopped, not when a test moved time.
 */
export class DbLease implements Lease {
  private readonly key: string;
  constructor(
    private readonly db: Database,
    name: string,
    readonly owner: string,
    private readonly ttlMs: number,
  ) {
    this.key = `${DB_LEASE_PREFIX}${name}`;
  }

  private async run(sql: string, params: unknown[]): Promise<number> {
    const text = this.db.kind === 'postgres' ? sql : sql.replace(/\$\d+/g, '?');
    const rows = await this.db.transaction(async (em) => (await em.queryRunner!.query(text, params, true)).records as unknown[]);
    return rows.length;
  }

  async acquire(): Promise<boolean> {
    const now = Date.now();
    // Taken when absent, expired, or already ours (a restart under the same owner name).
    return (
      (await this.run(
        `INSERT INTO kv_entries (key, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
         WHERE kv_entries.expires_at <= $4 OR kv_entries.value = $5 RETURNING key`,
        [this.key, this.owner, now + this.ttlMs, now, this.owner],
      )) === 1
    );
  }
  async renew(): Promise<boolean> {
    const now = Date.now();
    return (await this.run(`UPDATE kv_entries SET expires_at = $1 WHERE key = $2 AND value = $3 AND expires_at > $4 RETURNING key`, [now + this.ttlMs, this.key, this.owner, now])) === 1;
  }
  async release(): Promise<void> {
    await this.run(`DELETE FROM kv_entries WHERE key = $1 AND value = $2 RETURNING key`, [this.key, this.owner]);
  }
  async holder(): Promise<string | undefined> {
    const text = this.db.kind === 'postgres' ? 'SELECT value, expires_at FROM kv_entries WHERE key = $1' : 'SELECT value, expires_at FROM kv_entries WHERE key = ?';
    const [row] = (await this.db.manager.query(text, [this.key])) as { value: string; expires_at: string | number }[];
    return row && Number(row.expires_at) > Date.now() ? row.value : undefined;
  }
}
