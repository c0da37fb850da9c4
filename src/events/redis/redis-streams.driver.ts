import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EventsConfig } from '../../config/sections/events.config.js';
import { BusDriver, type ShardStatus } from '../bus-driver.js';
import type { EventDelivery } from '../event-delivery.js';
import type { OutboxRow, OutboxStore } from '../outbox.store.js';
import { Relay, xinfoPairs } from './relay.js';
import { StreamConsumer } from './stream-consumer.js';
import { StreamKeys } from './stream-keys.js';
import { shardLeaseMs } from '../../homeserver/backoff.js';

/**
 * The Redis Streams bus: a relay (one publisher at a time) from the outbox to `events.shards`
 * streams sharded by user, and a consumer per process reading the shards it holds. See relay.ts and
 * stream-consumer.ts for the guarantees. Two extra connections per process: one for the blocking
 * XREADGROUP and one for the relay's wake-up subscription.
 */
export class RedisStreamsDriver extends BusDriver {
  readonly name = 'redis-streams' as const;
  readonly keys: StreamKeys;
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly blocking: Redis;
  private readonly subscriber: Redis;
  readonly relay: Relay;
  readonly consumer: StreamConsumer;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    store: OutboxStore,
    delivery: EventDelivery,
    events: EventsConfig,
    private readonly logger: Logger,
  ) {
    super();
    this.keys = new StreamKeys(prefix, events.shards);
    this.blocking = redis.duplicate({ connectionName: 'causeway-events-read', maxRetriesPerRequest: null });
    this.subscriber = redis.duplicate({ connectionName: 'causeway-events-wake' });
    this.relay = new Relay(redis, this.subscriber, store, this.keys, this.owner, logger.child({ component: 'relay' }));
    const claimIdleMs = events.claim_idle * 1000;
    this.consumer = new StreamConsumer(redis, this.blocking, store, delivery, this.keys, this.owner, { claimIdleMs, leaseMs: shardLeaseMs(claimIdleMs) }, logger.child({ component: 'consumer' }));
    delivery.onDeadLetter((rows, error) => this.deadLetter(rows, error));
  }

  async start(): Promise<void> {
    await this.relay.start();
    await this.consumer.start();
    this.logger.info({ consumer: this.owner, shards: this.keys.shards }, 'event bus on Redis Streams started');
  }

  wake(): void {
    this.relay.wake();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.relay.stop();
    this.subscriber.disconnect();
  }

  /** Mirrors a dead letter into the dead-letter stream (operators read it; the outbox row stays the truth). */
  private async deadLetter(rows: OutboxRow[], error: string): Promise<void> {
    const p = this.redis.pipeline();
    for (const r of rows) {
      p.xadd(this.keys.dead, '*', 'id', String(r.id), 'u', r.userKey, 'kind', r.kind, 'attempts', String(r.attempts + 1), 'error', error.slice(0, 500), 'at', String(Date.now()));
    }
    await p.exec();
  }

  async shards(): Promise<ShardStatus[]> {
    const out: ShardStatus[] = [];
    for (let n = 0; n < this.keys.shards; n++) {
      const key = this.keys.stream(n);
      const groups = ((await this.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][]).map(xinfoPairs);
      const g = groups.find((x) => x.name === this.keys.group);
      const pending = Number(g?.pending ?? 0);
      // Redis 7 reports the group's lag; when it cannot (after deletions) count the stream instead.
      const lag = g?.lag === null || g?.lag === undefined ? await this.redis.xlen(key).catch(() => 0) : Number(g.lag);
      out.push({ shard: String(n), depth: lag + pending, pending });
    }
    return out;
  }

  /** Revived rows have `published_at` cleared: the relay publishes them; wake it. */
  async replayed(rows: { id: number; userKey: string }[]): Promise<void> {
    this.relay.wake();
    this.consumer.offerIfOwned(rows.map((r) => r.userKey));
    await this.removeFromDeadStream(new Set(rows.map((r) => String(r.id))));
  }

  private async removeFromDeadStream(rowIds: Set<string>): Promise<void> {
    const entries = (await this.redis.xrange(this.keys.dead, '-', '+', 'COUNT', 10_000).catch(() => [])) as [string, string[]][];
    const ids: string[] = [];
    for (const [id, fields] of entries) {
      const row = xinfoPairs(fields).id;
      if (typeof row === 'string' && rowIds.has(row)) ids.push(id);
    }
    if (ids.length) await this.redis.xdel(this.keys.dead, ...ids);
  }
}
