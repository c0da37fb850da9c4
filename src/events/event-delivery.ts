import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HomeserverAdapter, HomeserverError } from '../homeserver/homeserver.adapter.js';
import { LOGGER } from '../http/logger.module.js';
import { backoffDelay } from './backoff.js';
import { COALESCING_KINDS, deliverRows, UnknownEventKindError } from './event-handlers.js';
import { EventsMetrics, failureReason } from './events.metrics.js';
import { faultPoint } from './fault-injection.js';
import { OutboxStore, type OutboxRow } from './outbox.store.js';

/** Rows of one user handled per run (then the scheduler gives other users a turn). */
const ROWS_PER_RUN = 200;

export type DeliveryOutcome =
  /** Nothing pending for this user any more (as of the last read). */
  | { status: 'done' }
  /** The run stopped at its row budget; run again. */
  | { status: 'more' }
  /** The homeserver failed transiently; retry at `retryAt` (ms). */
  | { status: 'retry'; retryAt: number };

export type DeadLetterListener = (rows: OutboxRow[], error: string) => void | Promise<void>;

/**
 * Delivers one user's pending outbox rows to the homeserver, oldest first. The outbox row is the
 * source of truth: whatever woke us (a stream message, a poll), we read the user's pending rows
 * and deliver them in id order, so duplicates, replays and messages republished out of order can
 * never reorder a user's events. Callers guarantee one run per user at a time.
 *
 * Failures: transient ones (5xx, timeouts, connection refused, and 401/403, which are configuration
 * to fix rather than a verdict on the event) count an attempt and ask for a retry with back-off;
 * after `events.max_attempts` the rows become dead letters. Other 4xx answers (and unknown kinds)
 * are permanent: the rows are dead at once and the user's later events go on.
 */
@Injectable()
export class EventDelivery {
  private deadListeners: DeadLetterListener[] = [];

  constructor(
    private readonly store: OutboxStore,
    private readonly homeserver: HomeserverAdapter,
    private readonly metrics: EventsMetrics,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onDeadLetter(listener: DeadLetterListener): void {
    this.deadListeners.push(listener);
  }

  async deliverUser(userKey: string, now: () => number = Date.now): Promise<DeliveryOutcome> {
    const rows = await this.store.pendingRowsForUser(userKey, ROWS_PER_RUN);
    let i = 0;
    while (i < rows.length) {
      const head = rows[i]!;
      let j = i + 1;
      if (COALESCING_KINDS.has(head.kind)) while (j < rows.length && rows[j]!.kind === head.kind) j++;
      const group = rows.slice(i, j);
      const ids = group.map((r) => r.id);
      try {
        await deliverRows(this.homeserver, this.store, userKey, head.kind, group);
        this.metrics.homeserverCalls.inc({ kind: head.kind, outcome: 'ok' });
        faultPoint('after-homeserver-call');
        const at = now();
        await this.store.markDelivered(ids, at);
        for (const r of group) this.metrics.deliveryLatency.observe({ kind: r.kind }, Math.max(0, at - r.createdAt) / 1000);
        this.metrics.delivered.inc({ kind: head.kind }, group.length);
      } catch (e) {
        this.metrics.homeserverCalls.inc({ kind: head.kind, outcome: 'error' });
        this.metrics.failures.inc({ reason: failureReason(e) });
        const message = describe(e);
        // Our own failures (a database hiccup) are retried too; only an event we cannot understand is not.
        const retryable =
          e instanceof HomeserverError ? e.transient || e.status === 401 || e.status === 403 : !(e instanceof UnknownEventKindError);
        const attempts = Math.max(...group.map((r) => r.attempts)) + 1;
        if (retryable && attempts < this.config.events.max_attempts) {
          await this.store.recordFailure(ids, message);
          const delay = backoffDelay(attempts, this.config.events.backoff_initial_ms, this.config.events.backoff_max_ms);
          this.logger.warn({ user: userKey, kind: head.kind, rows: ids.length, attempts, retryInMs: delay, err: message }, 'homeserver delivery failed; will retry');
          return { status: 'retry', retryAt: now() + delay };
        }
        await this.store.markDead(ids, message, now());
        this.metrics.deadLetters.inc({ kind: head.kind }, group.length);
        this.logger.error({ user: userKey, kind: head.kind, rows: ids, attempts, err: message }, 'homeserver delivery gave up: dead letter');
        for (const l of this.deadListeners) await Promise.resolve(l(group, message)).catch(() => undefined);
      }
      i = j;
    }
    return rows.length === ROWS_PER_RUN ? { status: 'more' } : { status: 'done' };
  }
}

function describe(e: unknown): string {
  if (e instanceof HomeserverError) return e.message;
  return `internal: ${(e as Error)?.message ?? String(e)}`;
}
