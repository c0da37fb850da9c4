import type { DeliveryOutcome } from './event-delivery.js';
import { backoffDelay } from '../homeserver/backoff.js';

/**
 * Runs deliveries per user: never two runs for one user at once (that is what keeps a user's
 * events in order inside one process), users taken in batches (one database round trip serves a
 * whole batch), a bounded number of batches in parallel, and a user whose homeserver calls fail
 * waits out its back-off without holding up anyone else.
 */
export type RunOutcome = DeliveryOutcome | { status: 'error'; error: unknown };

export interface SchedulerOptions {
  /** Users per batch. */
  batchSize: number;
  /** Batches in parallel. */
  concurrency: number;
  /** Delivers the pending rows of these users. */
  run: (userKeys: string[]) => Promise<Map<string, DeliveryOutcome>>;
  /** Called after every batch (the Redis driver acknowledges messages here). */
  settled?: (outcomes: Map<string, RunOutcome>) => void | Promise<void>;
  /** Back-off after a run threw (database trouble), in ms. */
  errorBackoff?: (consecutive: number) => number;
  now?: () => number;
}

interface UserState {
  running: boolean;
  /** Offered again while running: run once more afterwards. */
  again: boolean;
  retryAt: number;
  timer?: NodeJS.Timeout;
  errors: number;
}

export class DeliveryScheduler {
  private readonly users = new Map<string, UserState>();
  private readonly ready: string[] = [];
  private readonly readySet = new Set<string>();
  private active = 0;
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  /** Counts resumeAll calls: a run that started before the latest one reports a stale back-off. */
  private resumes = 0;

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** There may be work for this user: run it now, or after its back-off, or again after the current run. */
  offer(userKey: string): void {
    if (this.stopped) return;
    let s = this.users.get(userKey);
    if (!s) {
      s = { running: false, again: false, retryAt: 0, errors: 0 };
      this.users.set(userKey, s);
    }
    if (s.running) {
      s.again = true;
      return;
    }
    if (s.retryAt > this.now()) return;
    if (!this.readySet.has(userKey)) {
      this.readySet.add(userKey);
      this.ready.push(userKey);
    }
    this.pump();
  }

  /** Users waiting for their back-off to end. */
  backingOff(): number {
    let n = 0;
    for (const s of this.users.values()) if (!s.running && s.retryAt > this.now()) n++;
    return n;
  }

  /** Users being delivered right now. */
  get inFlight(): number {
    return this.running;
  }

  /** Whether this user is being delivered or waits in the ready queue / back-off. */
  isBusy(userKey: string): boolean {
    const s = this.users.get(userKey);
    return !!s && (s.running || this.readySet.has(userKey) || s.retryAt > this.now());
  }

  private pump(): void {
    while (!this.stopped && this.active < this.opts.concurrency && this.ready.length) {
      const batch = this.ready.splice(0, this.opts.batchSize);
      for (const u of batch) {
        this.readySet.delete(u);
        this.users.get(u)!.running = true;
      }
      this.active++;
      this.running += batch.length;
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: string[]): Promise<void> {
    const outcomes = new Map<string, RunOutcome>();
    const resumesAtStart = this.resumes;
    try {
      const result = await this.opts.run(batch);
      for (const u of batch) outcomes.set(u, result.get(u) ?? { status: 'done' });
    } catch (error) {
      for (const u of batch) outcomes.set(u, { status: 'error', error });
    }
    this.active--;
    this.running -= batch.length;
    // The homeserver recovered while this batch ran: a retry it asks for (users the breaker parked
    // before the recovery) is stale, and resumeAll skipped them because they were running.
    const resumed = this.resumes !== resumesAtStart;
    for (const [user, outcome] of outcomes) this.after(user, resumed && outcome.status === 'retry' ? { status: 'more' } : outcome);
    try {
      await this.opts.settled?.(outcomes);
    } catch {
      /* acknowledgement trouble is the driver's to retry */
    }
    this.pump();
    if (this.active === 0 && this.ready.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private after(user: string, outcome: RunOutcome): void {
    const s = this.users.get(user)!;
    s.running = false;
    if (this.stopped) return;
    if (outcome.status === 'error') s.errors++;
    else s.errors = 0;
    if (outcome.status === 'retry' || outcome.status === 'error') {
      const at = outcome.status === 'retry' ? outcome.retryAt : this.now() + (this.opts.errorBackoff?.(s.errors) ?? backoffDelay(s.errors, 500, 30_000));
      s.retryAt = at;
      s.again = false;
      clearTimeout(s.timer);
      s.timer = setTimeout(() => this.endBackoff(user), Math.max(0, at - this.now()));
      s.timer.unref?.();
    } else if (outcome.status === 'more' || s.again) {
      s.again = false;
      this.offer(user);
    } else if (!s.timer) {
      // Done: forget the user so the map does not grow with every user ever seen.
      this.users.delete(user);
    }
  }

  /** Ends every back-off now (the homeserver recovered): waiting users are retried at once. */
  resumeAll(): void {
    this.resumes++;
    for (const [user, s] of this.users) {
      if (!s.running && s.timer) this.endBackoff(user);
    }
  }

  /** Ends this user's back-off and runs it now (it probes the homeserver for the others). */
  wake(userKey: string): void {
    const s = this.users.get(userKey);
    if (s && !s.running && s.timer) this.endBackoff(userKey);
    else this.offer(userKey);
  }

  /** Ends a user's back-off (its timer fired, or it is cut short) and offers it. */
  private endBackoff(userKey: string): void {
    const s = this.users.get(userKey);
    if (s) {
      clearTimeout(s.timer);
      s.timer = undefined;
      s.retryAt = 0;
    }
    this.offer(userKey);
  }

  /** Forgets a user's back-off and pending offers (its shard moved to another consumer). */
  forget(userKey: string): void {
    const s = this.users.get(userKey);
    if (!s) return;
    clearTimeout(s.timer);
    if (!s.running) this.users.delete(userKey);
    if (this.readySet.delete(userKey)) this.ready.splice(this.ready.indexOf(userKey), 1);
  }

  /** Stops starting runs and drops back-off timers; resolves once running deliveries finished (or `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    for (const s of this.users.values()) clearTimeout(s.timer);
    this.ready.length = 0;
    this.readySet.clear();
    if (this.active === 0) return;
    await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.())]);
  }
}
