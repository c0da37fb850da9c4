import { describe, expect, it } from '@jest/globals';
import { BusDriver, type ShardStatus } from '../../../src/events/bus-driver.js';
import { EventBus } from '../../../src/events/event-bus.service.js';
import type { EventDelivery } from '../../../src/events/event-delivery.js';
import { EventsMetrics } from '../../../src/events/events.metrics.js';
import { DbOutbox } from '../../../src/events/outbox.js';
import type { OutboxStore } from '../../../src/events/outbox.store.js';
import { HealthRegistry } from '../../../src/health/health.registry.js';
import { MetricsService } from '../../../src/health/metrics.service.js';

class IdleDriver extends BusDriver {
  readonly name = 'in-process' as const;
  async start() {}
  async stop() {}
  wake() {}
  async shards(): Promise<ShardStatus[]> {
    return [{ shard: '0', depth: 2, pending: 0 }];
  }
  async replayed() {}
}

/** The outbox figures, counting how often they are read (each read is two SQL queries). */
function countingStore() {
  const store = {
    reads: 0,
    async stats() {
      store.reads++;
      await new Promise((r) => setTimeout(r, 5));
      return { pending: 3, oldestCreatedAt: Date.now() - 4_000, dead: 1 };
    },
  };
  return store;
}

describe('EventBus metrics', () => {
  it('reads the outbox figures once per scrape, not once per gauge', async () => {
    const metrics = new MetricsService();
    const store = countingStore();
    const bus = new EventBus(new IdleDriver(), new DbOutbox(), store as unknown as OutboxStore, { homeserverDown: false } as unknown as EventDelivery, new EventsMetrics(metrics), new HealthRegistry());
    await bus.onApplicationBootstrap();

    const text = await metrics.registry.metrics();

    expect(text).toMatch(/^causeway_events_undelivered 3$/m);
    expect(text).toMatch(/^causeway_events_dead_letters 1$/m);
    expect(text).toMatch(/^causeway_events_oldest_undelivered_seconds 4(\.\d+)?$/m);
    expect(store.reads).toBe(1);

    // The next scrape reads them afresh.
    await metrics.registry.metrics();
    expect(store.reads).toBe(2);
    await bus.beforeApplicationShutdown();
  });
});
