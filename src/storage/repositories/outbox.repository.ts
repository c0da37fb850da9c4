import type { Tx } from '../database.service.js';
import { OutboxEntity } from '../entities/index.js';

/** An event row to append: the user it is about (its ordering and sharding key), its kind and payload. */
export interface NewOutboxRow {
  userKey: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

/**
 * The write side of the outbox table: appending an event inside the caller's transaction (the
 * delivery side's reads and marks are OutboxDeliveryRepository, outbox/, hand-written SQL on its hot
 * paths). Needs no database handle of its own: it writes through the caller's transaction.
 *
 * Order per user is the order of outbox ids, so ids of one user must be handed out in commit order.
 * SQLite runs one transaction at a time, so that holds. On PostgreSQL two concurrent transactions
 * could take ids 5 and 6 and commit 6 first; a transaction-scoped advisory lock on the user key makes
 * the second writer of the same user wait for the first to commit before it takes its id.
 * (SessionEnder, the hot path of every sign-out, writes its `devices.sync` rows inside its own
 * single statement and takes the same lock there: session-end/session-end.postgres.ts.)
 */
export class OutboxRepository {
  async append(tx: Tx, row: NewOutboxRow): Promise<void> {
    if (tx.connection.options.type === 'postgres') {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`causeway.outbox:${row.userKey}`]);
    }
    // No reload of the generated columns (TypeORM would SELECT the row back on SQLite): nobody reads them.
    await tx
      .createQueryBuilder()
      .insert()
      .into(OutboxEntity)
      .values({ user_key: row.userKey, kind: row.kind, payload: row.payload as never, created_at: row.createdAt, published_at: null, delivered_at: null })
      .updateEntity(false)
      .execute();
  }
}
