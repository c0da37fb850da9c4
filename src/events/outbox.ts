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

/** Writes the row; the relay picks it up. */
export class DbOutbox extends Outbox {
  private listeners: (() => void)[] = [];

  async enqueue(em: EntityManager, event: HomeserverEvent): Promise<void> {
    const { kind, localpart, ...payload } = event;
    await em.insert(OutboxEntity, {
      user_key: localpart,
      kind,
      payload: payload as never,
      created_at: Date.now(),
      published_at: null,
      delivered_at: null,
    });
  }

  notify(): void {
    for (const l of this.listeners) l();
  }

  onNotify(listener: () => void): void {
    this.listeners.push(listener);
  }
}
