import type { EntityManager } from 'typeorm';
import { OutboxEntity } from '../storage/entities/index.js';
import type { HomeserverEvent } from './homeserver-event.js';

/**
 * The transactional outbox. Call `enqueue` with the EntityManager of the transaction that makes
 * the change, so both commit or neither does. Delivery (relay + consumers) is the events module's.
 */
export abstract class Outbox {
  abstract enqueue(em: EntityManager, event: HomeserverEvent): Promise<void>;
  /** Hint that new rows were committed (wakes the relay instead of waiting for its next poll). */
  abstract notify(): void;
}

/**
 * Writes the row; the relay picks it up.
 *
 * Order per user is the order of outbox ids, so ids of one user must be handed out in commit order.
 * SQLite runs one transaction at a time, so that holds. On PostgreSQL two concurrent transactions
 * could take ids 5 and 6 and commit 6 first; a transaction-scoped advisory lock on the user key makes
 * the second writer of the same user wait for the first to commit before it takes its id.
 * (SessionEnder, the hot path of every sign-out, writes its `devices.sync` rows inside its own
 * single statement and takes the same lock there: src/oauth2/sessions/session-end.postgres.ts.)
 */
export class DbOutbox extends Outbox {
  private listeners: (() => void)[] = [];

  async enqueue(em: EntityManager, event: HomeserverEvent): Promise<void> {
    const { kind, localpart, ...payload } = event;
    if (em.connection.options.type === 'postgres') {
      await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`causeway.outbox:${localpart}`]);
    }
    // No reload of the generated columns (TypeORM would SELECT the row back on SQLite): nobody reads them.
    await em
      .createQueryBuilder()
      .insert()
      .into(OutboxEntity)
      .values({ user_key: localpart, kind, payload: payload as never, created_at: Date.now(), published_at: null, delivered_at: null })
      .updateEntity(false)
      .execute();
  }

  notify(): void {
    for (const l of this.listeners) l();
  }

  onNotify(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}
