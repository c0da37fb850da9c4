import { BusDriver, type ShardStatus } from './bus-driver.js';

/**
 * For a process that writes outbox rows but must not deliver them (`causeway manage`): the
 * serving process owns delivery (the in-process driver and the Redis relay both poll the outbox,
 * and revived dead letters are plain pending rows again).
 */
export class NoDeliveryDriver extends BusDriver {
  readonly name = 'none' as const;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  wake(): void {}
  async shards(): Promise<ShardStatus[]> {
    return [];
  }
  async replayed(): Promise<void> {}
}
