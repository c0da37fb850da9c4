import { backoffDelay } from '../homeserver/backoff.js';

/**
 * Longest wait between probes: one call a second (per replica) costs a down homeserver nothing and
 * bounds how long deliveries stay parked once it is back (the back-off itself grows to
 * `backoff_max_ms`): a blip costs sign-outs a second at most, not half a back-off.
 */
export const PROBE_MAX_INTERVAL_MS = 1000;
/** How long a user woken to probe may take to arrive before any other waiting user may probe instead. */
const PROBE_ARRIVAL_GRACE_MS = 1000;

export interface BreakerOptions {
  /** Back-off between probes: `events.backoff_initial_ms` … `events.backoff_max_ms`. */
  initialMs: number;
  maxMs: number;
  /** Ends this user's back-off and runs it now (the scheduler's `wake`). */
  wake: (userKey: string) => void;
  now?: () => number;
}

/**
 * Circuit breaker for the homeserver. Without it, during an outage every user with a pending event
 * calls the homeserver on its own back-off, and every failure writes an attempt to the outbox:
 * with tens of thousands of users that is thousands of refused calls and database writes a second,
 * which slows the sign-outs still being made, and every user burns its `max_attempts` towards a
 * dead letter although nothing is wrong with its events.
 *
 * Closed (normal): every user calls. The first transient failure opens it. Open: one call at a
 * time, the probe; the user that probes rotates over the users that wait, and every other user is
 * parked (no call, no attempt). A failed probe counts an attempt only on the back-off schedule an
 * ordinary retry would have followed (so `max_attempts` still ends a lone failing event as a dead
 * letter after the same time), but probes come at least every PROBE_MAX_INTERVAL_MS, so a recovery is
 * noticed within seconds however long the outage was. The first call the homeserver answers closes it
 * and the caller wakes every parked user. Pure state: the caller makes the calls and reports back.
 */
export class HomeserverBreaker {
  private open = false;
  /** Attempts counted during this outage, and when the next probe failure counts one. */
  private counted = 0;
  private nextCountAt = 0;
  private probeAt = 0;
  /** The user woken to probe (null: whoever comes first after `probeAt`). */
  private probeUser: string | null = null;
  private probing: string | null = null;
  /** Users that wait, in the order they will probe. */
  private readonly parked = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Splits users into those that may call the homeserver now and those parked until it answers. */
  admit(users: string[]): { admitted: string[]; parked: string[] } {
    if (!this.open) return { admitted: users, parked: [] };
    const t = this.now();
    let probe: string | undefined;
    if (this.probing === null && t >= this.probeAt) {
      // The user woken to probe, or (nobody woken: see wakeNext) whoever comes first.
      probe = this.probeUser === null ? users[0] : users.includes(this.probeUser) ? this.probeUser : undefined;
    }
    if (probe !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.probing = probe;
      this.probeUser = null;
      this.parked.delete(probe);
    }
    const parked = users.filter((u) => u !== probe);
    for (const u of parked) this.parked.add(u);
    return { admitted: probe === undefined ? [] : [probe], parked };
  }

  /** The homeserver answered (success, or a 4xx verdict). Returns true when this ends an outage. */
  answered(): boolean {
    if (!this.open) return false;
    this.open = false;
    this.counted = 0;
    this.probing = null;
    this.probeUser = null;
    this.parked.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    return true;
  }

  /**
   * A call for this user failed transiently (5xx, timeout, refused). Returns whether the failure
   * counts as an attempt: always for an ordinary call, for the probe only on the back-off schedule.
   */
  failed(userKey: string): boolean {
    const t = this.now();
    let counts = true;
    if (!this.open) {
      this.open = true;
      this.counted = 1;
      this.nextCountAt = t + this.backoff(1);
    } else if (this.probing === userKey) {
      counts = t >= this.nextCountAt;
      if (counts) this.nextCountAt = t + this.backoff(++this.counted);
    }
    if (this.probing === userKey) this.probing = null;
    this.parked.delete(userKey);
    this.parked.add(userKey);
    this.probeAt = Math.min(this.nextCountAt, t + PROBE_MAX_INTERVAL_MS);
    this.schedule();
    return counts;
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.opts.initialMs, this.opts.maxMs);
  }

  /** A run for these users ended; a probe that made no call (nothing was pending) lets the next user probe. */
  finished(users: string[]): void {
    if (this.probing !== null && users.includes(this.probing)) {
      this.probing = null;
      this.schedule();
    }
  }

  private schedule(): void {
    if (!this.open || this.probing !== null) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wakeNext(), Math.max(0, this.probeAt - this.now()));
    this.timer.unref?.();
  }

  private wakeNext(): void {
    this.timer = undefined;
    if (!this.open || this.probing !== null) return;
    // The user asked last did not come: it has nothing to deliver here any more (it joins again if it does).
    if (this.probeUser !== null) this.parked.delete(this.probeUser);
    const next = this.parked.values().next();
    if (next.done) {
      this.probeUser = null;
      return;
    }
    this.parked.delete(next.value);
    this.parked.add(next.value);
    this.probeUser = next.value;
    // If it does not come (its shard moved away, nothing pending any more), the next one is asked.
    this.timer = setTimeout(() => this.wakeNext(), PROBE_ARRIVAL_GRACE_MS);
    this.timer.unref?.();
    this.opts.wake(next.value);
  }

  /** Stops the probe timer (shutdown). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
