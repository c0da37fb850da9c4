import type { Tx } from '../storage/database.service.js';
import { OutboxRepository } from '../storage/repositories/outbox.repository.js';
import type { HomeserverEvent } from './homeserver-event.js';

/**
 * The transactional outbox. Call `enqueue` with the transaction that makes
 * the change, so both commit or neither does. Delivery (relay + consumers) is the events module's.
 */
export abstract class Outbox {
  abstract enqueue(tx: Tx, event: HomeserverEvent): Promise<void>;
  /** Hint that new rows were committed (wakes the relay instead of waiting for its next poll). */
  abstract notify(): void;
}

/** Writes the row (storage's OutboxRepository: the per-user ordering lock, the insert); the relay picks it up. */
export class DbOutbox extends Outbox {
  private listeners: (() => void)[] = [];

  constructor(private readonly rows = new OutboxRepository()) {
    super();
  }

  async enqueue(tx: Tx, event: HomeserverEvent): Promise<void> {
    const { kind, localpart, ...payload } = event;
    await this.rows.append(tx, { userKey: localpart, kind, payload, createdAt: Date.now() });
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
