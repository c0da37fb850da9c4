import type { Logger } from 'pino';
import { DELIVERY_BATCH_SIZE, DELIVERY_PARALLEL_BATCHES, RELAY_POLL_MS } from '../homeserver/backoff.js';
import { BusDriver, type ShardStatus } from './bus-driver.js';
import { DeliveryScheduler } from './delivery-scheduler.js';
import type { EventDelivery } from './event-delivery.js';
import { faultPoint } from './fault-points.js';
import type { OutboxStore } from './outbox.store.js';

/** Users picked up per scan (all of them, in practice: users waiting out a back-off must not hide the others). */
const SCAN_USERS = 50_000;
const WAKE_DEBOUNCE_MS = 2;

/**
 * The embedded default (no Redis): this process delivers straight from the outbox. A scan finds the
 * users with pending rows (on every commit notification, and every RELAY_POLL_MS as a safety net)
 * and hands them to the per-user scheduler. One replica only; start-up refuses more without Redis.
 */
export class InProcessDriver extends BusDriver {
  readonly name = 'in-process' as const;
  private readonly scheduler: DeliveryScheduler;
  private timer?: NodeJS.Timeout;
  private scanning = false;
  private rescan = false;
  private stopped = false;
  private wakeTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: OutboxStore,
    delivery: EventDelivery,
    private readonly logger: Logger,
  ) {
    super();
    this.scheduler = new DeliveryScheduler({ batchSize: DELIVERY_BATCH_SIZE, concurrency: DELIVERY_PARALLEL_BATCHES, run: (users) => delivery.deliverUsers(users) });
    delivery.onRecovered(() => this.scheduler.resumeAll());
    delivery.onProbe((user) => this.scheduler.wake(user));
  }

  async start(): Promise<void> {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    void this.scan().finally(() => {
      if (this.stopped) return;
      this.timer = setTimeout(() => this.tick(), RELAY_POLL_MS);
      this.timer.unref?.();
    });
  }

  private async scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    try {
      do {
        this.rescan = false;
        const users = await this.store.pendingUsers(SCAN_USERS);
        if (users.length) faultPoint('after-outbox-write');
        for (const u of users) this.scheduler.offer(u);
      } while (this.rescan && !this.stopped);
    } catch (err) {
      this.logger.warn({ err }, 'outbox scan failed');
    } finally {
      this.scanning = false;
    }
  }

  /** Commits come in bursts: one scan a few milliseconds later covers them all. */
  wake(): void {
    if (this.stopped || this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      void this.scan();
    }, WAKE_DEBOUNCE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.wakeTimer);
    await this.scheduler.stop();
  }

  async shards(): Promise<ShardStatus[]> {
    const { pending } = await this.store.stats();
    return [{ shard: 'local', depth: pending, pending: this.scheduler.inFlight }];
  }

  async replayed(rows: { id: number; userKey: string }[]): Promise<void> {
    for (const r of rows) this.scheduler.offer(r.userKey);
  }
}
