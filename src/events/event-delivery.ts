import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AvatarSetter } from './avatar-setter.js';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HomeserverAdapter, HomeserverError } from '../homeserver/homeserver.adapter.js';
import { LOGGER } from '../http/logger.module.js';
import { backoffDelay } from '../homeserver/backoff.js';
import { COALESCING_KINDS, deliverRows, UnknownEventKindError } from './event-handlers.js';
import { EventsMetrics, failureReason } from './events.metrics.js';
import { faultPoint } from './fault-points.js';
import { HomeserverBreaker } from './homeserver-breaker.js';
import { OutboxStore, type OutboxRow, type UserDevices } from './outbox.store.js';

/** Rows per user handled per run (then the scheduler gives other users a turn). */
const ROWS_PER_RUN = 200;

/**
 * `settledThrough`: every row of this user with an id up to it is delivered or dead (the run read
 * all the user's pending rows in id order, so any lower id it did not see was settled before).
 * The Redis consumer acknowledges those messages without asking the database again.
 */
export type DeliveryOutcome =
  /** Nothing pending for this user any more (as of the last read). */
  | { status: 'done'; settledThrough?: number }
  /** The run stopped at its row budget; run again. */
  | { status: 'more'; settledThrough?: number }
  /** The homeserver failed transiently; retry at `retryAt` (ms). */
  | { status: 'retry'; retryAt: number; settledThrough?: number };

export type DeadLetterListener = (rows: OutboxRow[], error: string) => void | Promise<void>;
export type RecoveryListener = () => void;
export type ProbeListener = (userKey: string) => void;

/**
 * Delivers one user's pending outbox rows to the homeserver, oldest first. The outbox row is the
 * source of truth: whatever woke us (a stream message, a poll), we read the user's pending rows
 * and deliver them in id order, so duplicates, replays and messages republished out of order can
 * never reorder a user's events. Callers guarantee one run per user at a time.
 *
 * Failures: transient ones (5xx, timeouts, connection refused, and 401/403, which are configuration
 * to fix rather than a verdict on the event) count an attempt and ask for a retry with back-off;
 * after `events.max_attempts` the rows become dead letters. Other 4xx answers (and unknown kinds)
 * are permanent: the rows are dead at once and the user's later events go on. While the homeserver
 * is down (5xx, timeouts, refused), a circuit breaker lets one user probe it at a time and parks
 * the others without calling or counting attempts (HomeserverBreaker).
 */
@Injectable()
export class EventDelivery implements OnApplicationShutdown {
  private deadListeners: DeadLetterListener[] = [];
  private recoveryListeners: RecoveryListener[] = [];
  private probeListeners: ProbeListener[] = [];
  private readonly breaker: HomeserverBreaker;
  private readonly failureLog: FailureLog;

  constructor(
    private readonly store: OutboxStore,
    private readonly homeserver: HomeserverAdapter,
    private readonly metrics: EventsMetrics,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {
    this.failureLog = new FailureLog(logger);
    this.breaker = new HomeserverBreaker({
      initialMs: config.events.backoff_initial_ms,
      maxMs: config.events.backoff_max_ms,
      wake: (user) => {
        for (const l of this.probeListeners) l(user);
      },
    });
    metrics.scrapeGauge('causeway_events_homeserver_down', 'The homeserver failed and is only being probed (circuit breaker open), 1 or 0', [], (g) => {
      g.set(this.breaker.isOpen ? 1 : 0);
      return Promise.resolve();
    });
  }

  private avatarSetter?: AvatarSetter;
  /** The avatar setter of the OAuth module, found on first use (that module depends on this one). */
  private readonly avatars = (): AvatarSetter => {
    this.avatarSetter ??= this.moduleRef?.get(AvatarSetter, { strict: false });
    if (!this.avatarSetter) throw new UnknownEventKindError('no avatar setter in this process');
    return this.avatarSetter;
  };

  /** Whether the homeserver is considered down (the breaker is open). */
  get homeserverDown(): boolean {
    return this.breaker.isOpen;
  }

  /** Called with the user that should probe the homeserver next (the driver runs it now). */
  onProbe(listener: ProbeListener): void {
    this.probeListeners.push(listener);
  }

  /** Shutdown: no more probe timers. */
  onApplicationShutdown(): void {
    this.breaker.stop();
  }

  onDeadLetter(listener: DeadLetterListener): void {
    this.deadListeners.push(listener);
  }

  /**
   * Called when a homeserver call succeeds after failures: an outage is over, so users waiting out
   * their back-off should be retried now rather than at their (up to backoff_max_ms) timers.
   */
  onRecovered(listener: RecoveryListener): void {
    this.recoveryListeners.push(listener);
  }

  /** Delivers one user's pending rows (see deliverUsers). */
  async deliverUser(userKey: string, now: () => number = Date.now): Promise<DeliveryOutcome> {
    return (await this.deliverUsers([userKey], now)).get(userKey)!;
  }

  /**
   * Delivers the pending rows of several users at once: one query reads their rows, one reads the
   * devices their sign-outs leave, the homeserver calls run in parallel (each user's own calls stay
   * in order), and the rows delivered are marked in one group commit. Callers guarantee that none of
   * these users is being delivered elsewhere.
   */
  async deliverUsers(userKeys: string[], now: () => number = Date.now): Promise<Map<string, DeliveryOutcome>> {
    const { admitted, parked } = this.breaker.admit(userKeys);
    const out = new Map<string, DeliveryOutcome>();
    // Parked users wake when the homeserver answers again (onRecovered); the timer is a safety net.
    for (const u of parked) out.set(u, { status: 'retry', retryAt: now() + this.config.events.backoff_max_ms });
    if (!admitted.length) return out;
    try {
      for (const [u, o] of await this.deliverAdmitted(admitted, now)) out.set(u, o);
    } finally {
      this.breaker.finished(admitted);
    }
    return out;
  }

  private async deliverAdmitted(userKeys: string[], now: () => number): Promise<Map<string, DeliveryOutcome>> {
    const { rows, truncated } = await this.store.pendingRowsForUsers(userKeys, ROWS_PER_RUN * userKeys.length);
    const byUser = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      let list = byUser.get(r.userKey);
      if (!list) byUser.set(r.userKey, (list = []));
      list.push(r);
    }
    const syncFirst = [...byUser].filter(([, list]) => list[0]!.kind === 'devices.sync').map(([u]) => u);
    const devices = syncFirst.length ? await this.store.activeDevicesForUsers(syncFirst) : new Map<string, UserDevices>();
    const out = new Map<string, DeliveryOutcome>();
    await Promise.all(
      userKeys.map(async (user) => {
        const outcome = await this.deliverRowsOfUser(user, byUser.get(user) ?? [], devices.get(user), now);
        out.set(user, outcome.status === 'done' && truncated ? { status: 'more', settledThrough: outcome.settledThrough } : outcome);
      }),
    );
    return out;
  }

  /** The homeserver answered a call: an outage, if there was one, is over; waiting users go now. */
  private homeserverAnswered(): void {
    if (!this.breaker.answered()) return;
    this.logger.info('homeserver answers again: retrying every waiting user now');
    for (const l of this.recoveryListeners) l();
  }

  private async deliverRowsOfUser(userKey: string, rows: OutboxRow[], preloadedDevices: UserDevices | undefined, now: () => number): Promise<DeliveryOutcome> {
    let i = 0;
    let devices = preloadedDevices;
    while (i < rows.length) {
      const head = rows[i]!;
      let j = i + 1;
      if (COALESCING_KINDS.has(head.kind)) while (j < rows.length && rows[j]!.kind === head.kind) j++;
      const group = rows.slice(i, j);
      const ids = group.map((r) => r.id);
      try {
        await deliverRows(this.homeserver, this.store, userKey, head.kind, group, i === 0 ? devices : undefined, this.avatars);
        devices = undefined;
        this.metrics.homeserverCalls.inc({ kind: head.kind, outcome: 'ok' });
        faultPoint('after-homeserver-call');
        this.homeserverAnswered();
        const at = now();
        await this.store.markDelivered(ids, at);
        for (const r of group) this.metrics.deliveryLatency.observe({ kind: r.kind }, Math.max(0, at - r.createdAt) / 1000);
        this.metrics.delivered.inc({ kind: head.kind }, group.length);
      } catch (e) {
        this.metrics.homeserverCalls.inc({ kind: head.kind, outcome: 'error' });
        this.metrics.failures.inc({ reason: failureReason(e) });
        const message = describe(e);
        // Our own failures (a database hiccup) are retried too; only an event we cannot understand is not.
        const retryable = e instanceof HomeserverError ? e.transient || e.status === 401 || e.status === 403 : !(e instanceof UnknownEventKindError);
        const attempts = Math.max(...group.map((r) => r.attempts)) + 1;
        if (e instanceof HomeserverError && e.transient) {
          if (!this.breaker.failed(userKey)) {
            // A probe ahead of its back-off: it confirms the outage and counts no attempt.
            this.failureLog.note(message, () => ({ user: userKey, kind: head.kind, probe: true }));
            return { status: 'retry', retryAt: now() + this.config.events.backoff_max_ms, settledThrough: head.id - 1 };
          }
        } else if (e instanceof HomeserverError) this.homeserverAnswered();
        if (retryable && attempts < this.config.events.max_attempts) {
          await this.store.recordFailure(ids, message);
          const delay = backoffDelay(attempts, this.config.events.backoff_initial_ms, this.config.events.backoff_max_ms);
          this.failureLog.note(message, () => ({ user: userKey, kind: head.kind, attempts, retryInMs: delay }));
          return { status: 'retry', retryAt: now() + delay, settledThrough: head.id - 1 };
        }
        await this.store.markDead(ids, message, now());
        this.metrics.deadLetters.inc({ kind: head.kind }, group.length);
        this.logger.error({ user: userKey, kind: head.kind, rows: ids, attempts, err: message }, 'homeserver delivery gave up: dead letter');
        for (const l of this.deadListeners) await Promise.resolve(l(group, message)).catch(() => undefined);
      }
      i = j;
    }
    return rows.length ? { status: 'done', settledThrough: rows[rows.length - 1]!.id } : { status: 'done' };
  }
}

/**
 * During an outage the probes fail: one warning per interval with the count,
 * the last error and one example, instead of a line per failure.
 */
class FailureLog {
  private count = 0;
  private last = 0;
  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 10_000,
  ) {}
  note(message: string, example: () => Record<string, unknown>): void {
    this.count++;
    const t = Date.now();
    if (t - this.last < this.everyMs) return;
    this.logger.warn({ failures: this.count, err: message, example: example() }, 'homeserver delivery failing; retrying with back-off');
    this.count = 0;
    this.last = t;
  }
}

function describe(e: unknown): string {
  if (e instanceof HomeserverError) return e.message;
  return `internal: ${(e as Error)?.message ?? String(e)}`;
}
