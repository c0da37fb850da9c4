/** What the events module asks of a delivery driver (in-process or Redis Streams). */
export interface ShardStatus {
  shard: string;
  /** Messages waiting to be read (Redis: group lag) plus read but unacknowledged ones. */
  depth: number;
  /** Read but unacknowledged (Redis pending entries list). */
  pending: number;
}

export abstract class BusDriver {
  abstract readonly name: 'in-process' | 'redis-streams' | 'none';
  abstract start(): Promise<void>;
  /** Graceful stop: no new work, in-flight deliveries finish, held messages are handed back. */
  abstract stop(): Promise<void>;
  /** New outbox rows were committed in this process. */
  abstract wake(): void;
  abstract shards(): Promise<ShardStatus[]>;
  /** Revived dead letters must be delivered again. */
  abstract replayed(rows: { id: number; userKey: string }[]): Promise<void>;
}
