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
}
