/** Every Redis key of the event bus, under `redis.key_prefix`. */
export class StreamKeys {
  /** The one consumer group every Causeway process joins. */
  readonly group = 'causeway';

  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {}

  /** `causeway:events:{n}`: the stream of shard n. */
  stream(n: number): string {
    return `${this.prefix}events:${n}`;
  }
  /** Which consumer holds shard n (value: consumer name, with a TTL). */
  lease(n: number): string {
    return `${this.prefix}events:lease:${n}`;
  }
  get relayLease(): string {
    return `${this.prefix}events:relay`;
  }
  /** Set once per Redis dataset: if it disappears, Redis lost its data and the relay republishes. */
  get epoch(): string {
    return `${this.prefix}events:epoch`;
  }
  /** Sorted set of live consumers (score: last heartbeat, ms). */
  get consumers(): string {
    return `${this.prefix}events:consumers`;
  }
  /** The dead-letter stream (a mirror of the outbox rows marked dead, for operators). */
  get dead(): string {
    return `${this.prefix}events:dead`;
  }
  /** Pub/sub channel: "new rows committed" from any process to the relay leader. */
  get wake(): string {
    return `${this.prefix}events:wake`;
  }

  shardOf(userKey: string): number {
    return shardOf(userKey, this.shards);
  }
}

/** FNV-1a (32-bit) of the user key, modulo the shard count: stable across processes and restarts. */
export function shardOf(userKey: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(userKey, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

// Leases moved to storage (the retention sweeper uses them too); re-exported for the bus.
export { Leases } from '../../storage/leases.js';

/** Whether a Redis error says the stream or group is gone (Redis restarted empty). */
export const isNoGroup = (e: unknown) => /NOGROUP/.test((e as Error)?.message ?? '');
