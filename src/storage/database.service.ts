import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { dbKindOf, type DbKind } from './data-source.js';

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

  constructor(readonly dataSource: DataSource, url: string) {
    this.kind = dbKindOf(url);
  }

  /** For reads. Writes belong in `transaction()`. */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return this.dataSource.transaction(work);
    const run = this.queue.then(() => this.dataSource.transaction(work));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * SQLite only, for hot paths: runs `work` synchronously on the raw connection in a transaction of
   * its own (rolled back if it throws), queued with the other transactions. Synchronous means no
   * other statement can slip in, so there is no TypeORM round trip per statement.
   */
  sqliteTransaction<T>(work: (conn: BetterSqlite3.Database) => T): Promise<T> {
    const conn = sqliteConnection(this.manager);
    const run = this.queue.then(() => conn.transaction(() => work(conn)).immediate());
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
}

/** The better-sqlite3 handle behind a SQLite EntityManager (inside a transaction: that transaction's). */
export function sqliteConnection(em: EntityManager): BetterSqlite3.Database {
  return (em.connection.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
}
