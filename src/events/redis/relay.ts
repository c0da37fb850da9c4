import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RELAY_BATCH, RELAY_POLL_MS, REPUBLISH_AFTER_MS } from '../../homeserver/backoff.js';
import { faultPoint } from '../fault-points.js';
import type { OutboxRow, OutboxStore } from '../outbox.store.js';
import { Leases, type StreamKeys } from './stream-keys.js';

/** The relay lease is short: after a crash another process takes over publishing within seconds. */
const RELAY_LEASE_MS = 5_000;
const TRIM_EVERY_MS = 30_000;
const SAFETY_NET_EVERY_MS = 60_000;
/** Dead-letter stream length kept (the outbox rows remain the source of truth). */
const DEAD_STREAM_MAXLEN = 10_000;

/**
 * Moves committed outbox rows to the shard streams (XADD), then marks them published. One relay
 * publishes at a time (a lease in Redis); every process can wake it (pub/sub) after a commit.
 *
 * At least once: a crash between XADD and marking the row publishes it again; consumers read the
 * outbox row itself, so a duplicate costs a read, never a second reordered delivery.
 *
 * Redis restarted without persistence: the epoch key is gone with everything else. The relay then
 * republishes every published-but-undelivered row (the outbox knows what was only published vs what
 * the homeserver confirmed). As a last safety net, rows published long ago and still undelivered
 * are republished periodically (a lost message after a partial Redis data loss).
 */
export class Relay {
  private readonly leases: Leases;
  private leader = false;
  private leaseRenewedAt = 0;
  private stopped = false;
  private wakeResolve?: () => void;
  private woken = false;
  private loop?: Promise<void>;
  private lastTrim = 0;
  private lastSafetyNet = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly store: OutboxStore,
    private readonly keys: StreamKeys,
    owner: string,
    private readonly logger: Logger,
  ) {
    this.leases = new Leases(redis, owner, RELAY_LEASE_MS);
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.keys.wake).catch((err) => this.logger.warn({ err }, 'relay: subscribe failed'));
    this.subscriber.on('message', (channel) => {
      if (channel === this.keys.wake) this.wakeLocal();
    });
    this.loop = this.run();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** New rows were committed in this process. */
  wake(): void {
    if (this.leader) this.wakeLocal();
    else void this.redis.publish(this.keys.wake, '1').catch(() => undefined);
  }

  private wakeLocal(): void {
    this.woken = true;
    this.wakeResolve?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeResolve = () => {
        this.wakeResolve = undefined;
        this.woken = false;
        done();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.holdLease();
        if (this.leader) {
          await this.checkEpoch();
          while (!this.stopped && (await this.publishBatch()) === RELAY_BATCH) {
            /* keep going while batches are full */
          }
          await this.housekeeping();
        }
        await this.sleep(RELAY_POLL_MS);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'relay: iteration failed; retrying');
        await new Promise((r) => setTimeout(r, RELAY_POLL_MS));
      }
    }
  }

  private async holdLease(): Promise<void> {
    const now = Date.now();
    if (this.leader) {
      if (now - this.leaseRenewedAt < RELAY_LEASE_MS / 3) return;
      if (await this.leases.renew(this.keys.relayLease)) this.leaseRenewedAt = now;
      else {
        this.leader = false;
        this.logger.info('relay: lost the relay lease');
      }
      return;
    }
    if (await this.leases.acquire(this.keys.relayLease)) {
      this.leader = true;
      this.leaseRenewedAt = now;
      this.logger.info('relay: this process now publishes the outbox');
    }
  }

  private async checkEpoch(): Promise<void> {
    if (await this.redis.exists(this.keys.epoch)) return;
    const isNew = (await this.redis.set(this.keys.epoch, randomUUID(), 'NX')) === 'OK';
    if (!isNew) return;
    const n = await this.republish();
    if (n) this.logger.warn({ republished: n }, 'relay: Redis lost its data; republished every undelivered event from the outbox');
  }

  /** Republishes published-but-undelivered rows (optionally only those published before a time). */
  private async republish(publishedBefore?: number): Promise<number> {
    let after = 0;
    let total = 0;
    for (;;) {
      const rows = await this.store.publishedPending(after, RELAY_BATCH, publishedBefore);
      if (!rows.length) return total;
      await this.xadd(rows);
      await this.store.markPublished(
        rows.map((r) => r.id),
        Date.now(),
      );
      total += rows.length;
      after = rows[rows.length - 1]!.id;
    }
  }

  private async publishBatch(): Promise<number> {
    const rows = await this.store.unpublished(RELAY_BATCH);
    if (!rows.length) return 0;
    faultPoint('after-outbox-write');
    await this.xadd(rows);
    faultPoint('after-publish');
    await this.store.markPublished(
      rows.map((r) => r.id),
      Date.now(),
    );
    return rows.length;
  }

  private async xadd(rows: OutboxRow[]): Promise<void> {
    const p = this.redis.pipeline();
    for (const r of rows) p.xadd(this.keys.stream(this.keys.shardOf(r.userKey)), '*', 'id', String(r.id), 'u', r.userKey);
    const results = (await p.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSafetyNet >= SAFETY_NET_EVERY_MS) {
      this.lastSafetyNet = now;
      const n = await this.republish(now - REPUBLISH_AFTER_MS);
      if (n) this.logger.info({ republished: n }, 'relay: republished events still undelivered long after publishing');
    }
    if (now - this.lastTrim >= TRIM_EVERY_MS) {
      this.lastTrim = now;
      await this.trim();
    }
  }

  /** Drops stream entries every consumer is done with (acknowledged and older than the oldest pending). */
  private async trim(): Promise<void> {
    for (let n = 0; n < this.keys.shards; n++) {
      const key = this.keys.stream(n);
      const groups = (await this.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][];
      const group = groups.map(pairs).find((g) => g.name === this.keys.group);
      if (!group) continue;
      let threshold = String(group['last-delivered-id']);
      const summary = (await this.redis.xpending(key, this.keys.group)) as [number, string | null, string | null, unknown];
      if (summary[0] > 0 && summary[1] && compareIds(summary[1], threshold) < 0) threshold = summary[1];
      if (threshold !== '0-0') await this.redis.xtrim(key, 'MINID', '~', threshold);
    }
    await this.redis.xtrim(this.keys.dead, 'MAXLEN', '~', DEAD_STREAM_MAXLEN).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeLocal();
    await this.loop;
    if (this.leader) await this.leases.release(this.keys.relayLease).catch(() => undefined);
    this.leader = false;
    await this.subscriber.unsubscribe().catch(() => undefined);
  }
}

function pairs(list: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = list[i + 1];
  return out;
}

/** Orders stream IDs `ms-seq`. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

export { pairs as xinfoPairs };
