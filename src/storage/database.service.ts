import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { dbKindOf, type DbKind } from './data-source.js';

/**
 * A transaction in progress, as `Database.transaction` hands it to its work: repository methods that
 * must write (or read) inside the caller's transaction take it first.
 */
export type Tx = EntityManager;

/**
 * The unit of work. Every write goes through `transaction()`, so that a change and its outbox row
 * commit together.
 *
 * SQLite has one connection: TypeORM would interleave two concurrent transactions on it ("cannot
 * start a transaction within a transaction", or worse, one request's writes inside another's
 * transaction). So on SQLite transactions queue behind each other; on PostgreSQL they run in
 * parallel on the pool.
 */
export class Database {
  readonly kind: DbKind;
  private queue: Promise<unknown> = Promise.resolve();
  /** Work to run once a transaction has committed (see afterCommit), by the transaction's manager. */
  private readonly onCommit = new WeakMap<EntityManager, Array<() => void>>();

  constructor(
    readonly dataSource: DataSource,
    url: string,
  ) {
    this.kind = dbKindOf(url);
  }

  /** For reads. Writes belong in `transaction()`. */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const tracked = async () => {
      let hooks: Array<() => void> = [];
      const result = await this.dataSource.transaction(async (em) => {
        this.onCommit.set(em, (hooks = []));
        return work(em);
      });
      for (const hook of hooks) hook();
      return result;
    };
    if (this.kind === 'postgres') return tracked();
    const run = this.queue.then(tracked);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs `hook` once the transaction of `em` has committed (never if it rolls back); at once when
   * `em` is not a transaction of `transaction()`. For side effects that must not announce what
   * may still be undone (e.g. the audit stream).
   */
  afterCommit(em: EntityManager, hook: () => void): void {
    const hooks = this.onCommit.get(em);
    if (hooks) hooks.push(hook);
    else hook();
  }

  /**
   * SQLite only, for hot paths: runs `work` synchronously on the raw connection in a transaction of
   * its own (rolled back if it throws), queued with the other transactions. Synchronous means no
   * other statement can slip in, so there is no TypeORM round trip per statement.
   */
  sqliteTransaction<T>(work: (conn: BetterSqlite3.Database) => T): Promise<T> {
    const conn = sqliteConnection(this.manager);
    return this.enqueue(() => conn.transaction(() => work(conn)).immediate());
  }

  private enqueue<T>(work: () => T): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * PostgreSQL only, for hot paths: one statement on the pool, outside any transaction (a single
   * statement is atomic), prepared once per connection under `name`.
   */
  async pgQuery<R extends Record<string, unknown>>(name: string, text: string, values: unknown[]): Promise<R[]> {
    const pool = (this.dataSource.driver as unknown as { master: pg.Pool }).master;
    return (await pool.query<R>({ name, text, values })).rows;
  }

  /**
   * A hot-path statement written once per dialect, run without TypeORM: on PostgreSQL on the pool
   * (prepared per connection), on SQLite prepared once and run synchronously, queued behind the
   * open transaction if any, so it only ever sees (and writes) committed state. List parameters are
   * JS arrays: `= ANY($n)` on PostgreSQL, JSON for `IN (SELECT value FROM json_each(?))` on SQLite,
   * so one prepared statement serves every list length.
   */
  async hot<R extends Record<string, unknown>>(stmt: HotStatement, values: unknown[]): Promise<R[]> {
    if (this.kind === 'postgres') return this.pgQuery<R>(stmt.name, stmt.postgres, values);
    const conn = sqliteConnection(this.manager);
    const bound = values.map(toSqlite);
    return this.enqueue(() => {
      const st = prepared(conn, stmt.sqlite);
      return st.reader ? (st.all(...bound) as R[]) : (st.run(...bound), []);
    });
  }
}

/** One statement for both dialects (see Database.hot). */
export interface HotStatement {
  name: string;
  postgres: string;
  sqlite: string;
}

function toSqlite(v: unknown): unknown {
  if (Array.isArray(v)) return JSON.stringify(v);
  // Bound as INTEGER (a JS number would be bound as REAL).
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

const statementCache = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

/** A prepared statement of this connection, prepared on first use. */
export function prepared(conn: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement<unknown[], Record<string, unknown>> {
  let cache = statementCache.get(conn);
  if (!cache) statementCache.set(conn, (cache = new Map()));
  let st = cache.get(sql);
  if (!st) cache.set(sql, (st = conn.prepare(sql)));
  return st as BetterSqlite3.Statement<unknown[], Record<string, unknown>>;
}

/** The better-sqlite3 handle behind a SQLite EntityManager (inside a transaction: that transaction's). */
export function sqliteConnection(em: EntityManager): BetterSqlite3.Database {
  return (em.connection.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
}
