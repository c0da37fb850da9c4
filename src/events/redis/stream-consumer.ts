import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BUS_BLOCK_MS, DELIVERY_BATCH_SIZE, DELIVERY_PARALLEL_BATCHES } from '../../homeserver/backoff.js';
import { DeliveryScheduler, type RunOutcome } from '../delivery-scheduler.js';
import type { DeliveryOutcome, EventDelivery } from '../event-delivery.js';
import type { OutboxStore } from '../outbox.store.js';
import { Leases, isNoGroup, type StreamKeys } from './stream-keys.js';

/** Entries read per XREADGROUP / XAUTOCLAIM call. */
const READ_COUNT = 1000;

interface Tracked {
  shard: number;
  rowId: number;
}

type StreamEntry = [id: string, fields: string[]];

export interface ConsumerOptions {
  /** `events.claim_idle` in ms: a message unacknowledged this long is taken from its consumer. */
  claimIdleMs: number;
  /** Shard lease TTL in ms (renewed at a third of it). */
  leaseMs: number;
}

/**
 * One Causeway process's consumer of the shard streams (consumer group `causeway`).
 *
 * - A shard is handled by one consumer at a time: the consumer holds a lease per shard in Redis and
 *   only reads (XREADGROUP) shards it holds; processes share the shards evenly (heartbeats count the
 *   live consumers). A user always maps to the same shard, so a user's events are handled by one
 *   process, and inside it by one run at a time (DeliveryScheduler): order per user is kept.
 * - A message is a wake-up for its user; the delivery reads the user's pending outbox rows and
 *   delivers them in id order. XACK happens only once the rows the messages name are delivered
 *   (or dead): after the homeserver confirmed.
 * - Messages held by a dead consumer are taken over with XAUTOCLAIM after `events.claim_idle`.
 * - Graceful stop hands held messages back (re-added to the stream, then acknowledged) so another
 *   consumer picks them up at once, and releases the leases.
 */
export class StreamConsumer {
  private readonly leases: Leases;
  private readonly scheduler: DeliveryScheduler;
  private readonly held = new Set<number>();
  private readonly draining = new Set<number>();
  private readonly tracked = new Map<string, Map<string, Tracked>>();
  /** Message IDs being tracked (any user). */
  private readonly trackedIds = new Set<string>();
  private stopped = false;
  private loops: Promise<void>[] = [];
  private maintenanceTimer?: NodeJS.Timeout;
  private claimTimer?: NodeJS.Timeout;
  private groupsReady = new Set<number>();

  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly store: OutboxStore,
    delivery: EventDelivery,
    private readonly keys: StreamKeys,
    readonly owner: string,
    private readonly opts: ConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.leases = new Leases(redis, owner, opts.leaseMs);
    this.scheduler = new DeliveryScheduler({
      batchSize: DELIVERY_BATCH_SIZE,
      concurrency: DELIVERY_PARALLEL_BATCHES,
      // Users whose shard moved away meanwhile are left to the new owner.
      run: async (users) => {
        const owned = users.filter((u) => this.ownsUser(u));
        return owned.length ? delivery.deliverUsers(owned) : new Map<string, DeliveryOutcome>();
      },
      settled: (outcomes) => this.acknowledge(outcomes),
    });
    delivery.onRecovered(() => this.scheduler.resumeAll());
    delivery.onProbe((user) => this.scheduler.wake(user));
  }

  /** Shards this consumer holds right now. */
  heldShards(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  private ownsUser(user: string): boolean {
    const shard = this.keys.shardOf(user);
    return this.held.has(shard);
  }

  async start(): Promise<void> {
    await this.maintain();
    const schedule = () => {
      if (this.stopped) return;
      this.maintenanceTimer = setTimeout(() => void this.maintain().finally(schedule), this.opts.leaseMs / 3);
    };
    schedule();
    const claim = () => {
      if (this.stopped) return;
      this.claimTimer = setTimeout(() => void this.claimAll().finally(claim), Math.max(250, this.opts.claimIdleMs / 2));
    };
    claim();
    this.loops.push(this.readLoop());
  }

  // ---- leases and balancing --------------------------------------------------------------------

  private async maintain(): Promise<void> {
    if (this.stopped) return;
    try {
      const now = Date.now();
      await this.redis
        .multi()
        .zadd(this.keys.consumers, now, this.owner)
        .zremrangebyscore(this.keys.consumers, '-inf', now - this.opts.leaseMs)
        .exec();
      const live = Math.max(1, await this.redis.zcard(this.keys.consumers));
      const target = Math.ceil(this.keys.shards / live);

      for (const n of [...this.held]) {
        if (!(await this.leases.renew(this.keys.lease(n)))) {
          this.logger.warn({ shard: n }, 'events: lost a shard lease');
          this.dropShard(n);
        }
      }
      await this.finishDraining();
      if (this.held.size < target) {
        const offset = Math.floor(Math.random() * this.keys.shards);
        for (let i = 0; i < this.keys.shards && this.held.size < target; i++) {
          const n = (offset + i) % this.keys.shards;
          if (this.held.has(n)) continue;
          if (await this.leases.acquire(this.keys.lease(n))) {
            this.held.add(n);
            await this.ensureGroup(n);
            await this.claimShard(n);
          }
        }
      } else if (this.held.size > target) {
        const extra = [...this.held].filter((n) => !this.draining.has(n)).slice(0, this.held.size - this.draining.size - target);
        for (const n of extra) this.draining.add(n);
        await this.finishDraining();
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'events: lease maintenance failed');
    }
  }

  /** A draining shard is released once none of its users is being delivered. */
  private async finishDraining(): Promise<void> {
    for (const n of [...this.draining]) {
      const busy = [...this.tracked.keys()].some((u) => this.keys.shardOf(u) === n && this.scheduler.isBusy(u));
      if (busy) continue;
      await this.handBack([n]);
      await this.leases.release(this.keys.lease(n));
      this.held.delete(n);
      this.draining.delete(n);
      this.logger.info({ shard: n }, 'events: shard handed over for balance');
    }
  }

  private dropShard(n: number): void {
    this.held.delete(n);
    this.draining.delete(n);
    for (const user of [...this.tracked.keys()]) {
      if (this.keys.shardOf(user) !== n) continue;
      for (const msgId of this.tracked.get(user)!.keys()) this.trackedIds.delete(msgId);
      this.tracked.delete(user);
      this.scheduler.forget(user);
    }
  }

  private async ensureGroup(n: number): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.stream(n), this.keys.group, '0', 'MKSTREAM');
    } catch (e) {
      if (!/BUSYGROUP/.test((e as Error).message)) throw e;
    }
    this.groupsReady.add(n);
  }

  // ---- reading -----------------------------------------------------------------------------------

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      const shards = [...this.held].filter((n) => !this.draining.has(n));
      if (!shards.length) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      try {
        const res = (await this.blocking.xreadgroup('GROUP', this.keys.group, this.owner, 'COUNT', READ_COUNT, 'BLOCK', BUS_BLOCK_MS, 'STREAMS', ...shards.map((n) => this.keys.stream(n)), ...shards.map(() => '>'))) as
          [string, StreamEntry[]][] | null;
        for (const [key, entries] of res ?? []) this.take(this.shardOfKey(key), entries);
      } catch (err) {
        if (this.stopped) return;
        if (isNoGroup(err)) {
          // Redis restarted empty: recreate the groups (the relay republishes what was lost).
          this.logger.warn('events: consumer group missing; recreating');
          for (const n of this.held) await this.ensureGroup(n).catch(() => undefined);
        } else {
          this.logger.warn({ err: (err as Error).message }, 'events: reading the streams failed');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  }

  private shardOfKey(key: string): number {
    return Number(key.slice(key.lastIndexOf(':') + 1));
  }

  private take(shard: number, entries: StreamEntry[]): void {
    for (const [msgId, fields] of entries) {
      if (!fields) continue;
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      const user = f.u;
      const rowId = Number(f.id);
      if (!user || !Number.isInteger(rowId)) {
        // Not one of ours (or damaged): acknowledge it so it does not sit in the PEL forever.
        void this.redis.xack(this.keys.stream(shard), this.keys.group, msgId).catch(() => undefined);
        continue;
      }
      // A shard we no longer hold: leave the message pending for its new owner to claim.
      if (!this.held.has(shard)) continue;
      let msgs = this.tracked.get(user);
      if (!msgs) this.tracked.set(user, (msgs = new Map()));
      msgs.set(msgId, { shard, rowId });
      this.trackedIds.add(msgId);
      if (!this.draining.has(shard)) this.scheduler.offer(user);
    }
  }

  /** XAUTOCLAIM: messages idle longer than claim_idle in held shards (a dead consumer's, or our own stuck ones). */
  private async claimShard(n: number): Promise<void> {
    let cursor = '0-0';
    for (let i = 0; i < 100; i++) {
      const res = (await this.redis.xautoclaim(this.keys.stream(n), this.keys.group, this.owner, this.opts.claimIdleMs, cursor, 'COUNT', READ_COUNT)) as [string, StreamEntry[], string[]?];
      const entries = res[1].filter((e) => e && e[1]);
      const mine = entries.filter(([id]) => !this.isTracked(id));
      if (mine.length) this.logger.info({ shard: n, claimed: mine.length }, 'events: took over messages from an idle consumer');
      this.take(n, entries);
      cursor = res[0];
      if (cursor === '0-0') return;
    }
  }

  private trackedIn(shard: number): number {
    let n = 0;
    for (const msgs of this.tracked.values()) for (const t of msgs.values()) if (t.shard === shard) n++;
    return n;
  }

  private isTracked(msgId: string): boolean {
    return this.trackedIds.has(msgId);
  }

  private async claimAll(): Promise<void> {
    for (const n of this.held) {
      if (this.stopped || this.draining.has(n)) continue;
      try {
        // Another consumer's messages need claiming, and so do our own that we do not track: read in
        // a moment we did not hold the shard (then re-acquired it), or answered to a read we gave up
        // on. Ours that are tracked (waiting out a back-off) are left alone.
        const summary = (await this.redis.xpending(this.keys.stream(n), this.keys.group)) as [number, unknown, unknown, [string, string][] | null];
        if (!summary[0]) continue;
        const perConsumer = summary[3] ?? [];
        const others = perConsumer.some(([consumer]) => consumer !== this.owner);
        const ours = Number(perConsumer.find(([consumer]) => consumer === this.owner)?.[1] ?? 0);
        if (!others && ours <= this.trackedIn(n)) continue;
        await this.claimShard(n);
      } catch (err) {
        if (isNoGroup(err)) await this.ensureGroup(n).catch(() => undefined);
        else this.logger.warn({ err: (err as Error).message, shard: n }, 'events: XAUTOCLAIM failed');
      }
    }
  }

  // ---- acknowledging -------------------------------------------------------------------------------

  /**
   * XACK the messages (of the users just run) whose rows are delivered or dead: those the run itself
   * settled are known from its outcome; the others (duplicates of rows settled earlier, rows committed
   * after the run read) are checked in one query. Then one pipeline of XACKs.
   */
  private async acknowledge(outcomes: Map<string, RunOutcome>): Promise<void> {
    const known: [string, string, Tracked][] = [];
    const unknown: [string, string, Tracked][] = [];
    for (const [user, outcome] of outcomes) {
      const through = outcome.status === 'error' ? undefined : outcome.settledThrough;
      for (const [msgId, t] of this.tracked.get(user) ?? []) {
        if (through !== undefined && t.rowId <= through) known.push([user, msgId, t]);
        // A user waiting out a back-off (or parked by the breaker) runs again and settles its rows
        // then; asking the database now about each of its messages would only find them pending.
        else if (outcome.status !== 'retry') unknown.push([user, msgId, t]);
      }
    }
    if (!known.length && !unknown.length) return;
    const settled = unknown.length ? await this.store.settled(unknown.map(([, , t]) => t.rowId)) : new Set<number>();
    const ackable = [...known, ...unknown.filter(([, , t]) => settled.has(t.rowId))];
    if (ackable.length) {
      const p = this.redis.pipeline();
      for (const [, msgId, t] of ackable) p.xack(this.keys.stream(t.shard), this.keys.group, msgId);
      await p.exec();
      for (const [user, msgId] of ackable) {
        this.tracked.get(user)?.delete(msgId);
        this.trackedIds.delete(msgId);
      }
    }
    for (const [user, outcome] of outcomes) {
      const msgs = this.tracked.get(user);
      if (!msgs) continue;
      if (!msgs.size) this.tracked.delete(user);
      // A row named by a message is committed, so a finished run should have covered it; run again if not.
      else if (outcome.status === 'done' && this.ownsUser(user)) this.scheduler.offer(user);
    }
  }

  /** Re-adds our unacknowledged messages of these shards to their streams and acknowledges the originals. */
  private async handBack(shards: number[]): Promise<void> {
    const set = new Set(shards);
    const p = this.redis.pipeline();
    let n = 0;
    for (const [user, msgs] of this.tracked) {
      for (const [msgId, t] of msgs) {
        if (!set.has(t.shard)) continue;
        p.xadd(this.keys.stream(t.shard), '*', 'id', String(t.rowId), 'u', user);
        p.xack(this.keys.stream(t.shard), this.keys.group, msgId);
        msgs.delete(msgId);
        this.trackedIds.delete(msgId);
        n++;
      }
      if (!msgs.size) this.tracked.delete(user);
    }
    if (n) await p.exec();
    for (const s of shards) await this.redis.xgroup('DELCONSUMER', this.keys.stream(s), this.keys.group, this.owner).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.maintenanceTimer);
    clearTimeout(this.claimTimer);
    this.blocking.disconnect();
    await Promise.allSettled(this.loops);
    await this.scheduler.stop();
    const shards = [...this.held];
    try {
      await this.handBack(shards);
      for (const n of shards) await this.leases.release(this.keys.lease(n));
      await this.redis.zrem(this.keys.consumers, this.owner);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'events: handing back messages failed (they will be claimed after claim_idle)');
    }
    this.held.clear();
  }

  /** Wake-ups for users whose rows were revived from the dead letters (their messages come from the relay). */
  offerIfOwned(users: string[]): void {
    for (const u of users) if (this.ownsUser(u)) this.scheduler.offer(u);
  }

  get inFlight(): number {
    return this.scheduler.inFlight;
  }
}
