import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HealthRegistry } from '../health/health.registry.js';
import { DEGRADED_AFTER_MS } from '../homeserver/backoff.js';
import { BusDriver, type ShardStatus } from './bus-driver.js';
import { EventsMetrics } from './events.metrics.js';
import { DbOutbox } from './outbox.js';
import { EventDelivery } from './event-delivery.js';
import { OutboxStore, type DeadLetter } from './outbox.store.js';

export interface BusStatus {
  driver: BusDriver['name'];
  /** Events not yet confirmed by the homeserver (outbox rows neither delivered nor dead). */
  undelivered: number;
  /** Age of the oldest of those, in seconds (0 when none). */
  oldest_undelivered_age_seconds: number;
  dead_letters: number;
  /** This process's circuit breaker is open: the homeserver failed and is only being probed. */
  homeserver_down: boolean;
  shards: ShardStatus[];
}

/**
 * The event bus as the rest of Causeway sees it: starts and stops the driver with the application,
 * wakes it when rows are committed, reports status (admin API, /health/ready, /metrics) and manages
 * dead letters.
 */
@Injectable()
export class EventBus implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private unsubscribe?: () => void;
  private statsInFlight?: ReturnType<OutboxStore['stats']>;

  constructor(
    private readonly driver: BusDriver,
    private readonly outbox: DbOutbox,
    private readonly store: OutboxStore,
    private readonly delivery: EventDelivery,
    private readonly metrics: EventsMetrics,
    private readonly health: HealthRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.outbox.onNotify(() => this.driver.wake());
    this.health.register({
      name: 'events',
      check: async () => {
        const s = await this.sharedStats();
        const age = s.oldestCreatedAt === null ? 0 : Date.now() - s.oldestCreatedAt;
        const detail = `${this.driver.name}: ${s.pending} undelivered, oldest ${Math.round(age / 1000)} s, ${s.dead} dead letters`;
        return { status: age > DEGRADED_AFTER_MS ? 'degraded' : 'up', detail };
      },
    });
    this.metrics.scrapeGauge('causeway_events_queue_depth', 'Events waiting per shard (unread + unacknowledged)', ['shard'], async (g) => {
      g.reset();
      for (const s of await this.driver.shards()) g.set({ shard: s.shard }, s.depth);
    });
    this.metrics.scrapeGauge('causeway_events_oldest_undelivered_seconds', 'Age of the oldest event the homeserver has not confirmed', [], async (g) => {
      const s = await this.sharedStats();
      g.set(s.oldestCreatedAt === null ? 0 : (Date.now() - s.oldestCreatedAt) / 1000);
    });
    this.metrics.scrapeGauge('causeway_events_undelivered', 'Events the homeserver has not confirmed yet', [], async (g) => {
      g.set((await this.sharedStats()).pending);
    });
    this.metrics.scrapeGauge('causeway_events_dead_letters', 'Events currently in the dead letters', [], async (g) => {
      g.set((await this.sharedStats()).dead);
    });
    await this.driver.start();
  }

  /**
   * The outbox figures, read once for everyone asking at the same moment: the three gauges of one
   * scrape (collected concurrently) and a readiness probe share one round of queries.
   */
  private sharedStats(): ReturnType<OutboxStore['stats']> {
    this.statsInFlight ??= this.store.stats().finally(() => {
      this.statsInFlight = undefined;
    });
    return this.statsInFlight;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.driver.stop();
  }

  async status(): Promise<BusStatus> {
    const s = await this.store.stats();
    return {
      driver: this.driver.name,
      undelivered: s.pending,
      oldest_undelivered_age_seconds: s.oldestCreatedAt === null ? 0 : Math.max(0, Math.round((Date.now() - s.oldestCreatedAt) / 100) / 10),
      dead_letters: s.dead,
      homeserver_down: this.delivery.homeserverDown,
      shards: await this.driver.shards(),
    };
  }

  deadLetters(limit: number, afterId?: number): Promise<DeadLetter[]> {
    return this.store.deadLetters(limit, afterId);
  }

  /** Puts dead letters back in the queue; returns the ids revived (already-live or unknown ids are skipped). */
  async replay(ids: number[]): Promise<number[]> {
    const rows = await this.store.revive(ids);
    if (rows.length) await this.driver.replayed(rows);
    return rows.map((r) => r.id);
  }
}
