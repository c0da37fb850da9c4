import { Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LOGGER } from '../http/logger.module.js';
import { REDIS } from '../storage/storage.module.js';

import { BusDriver } from './bus-driver.js';
import { EventBus } from './event-bus.service.js';
import { EventDelivery } from './event-delivery.js';
import { EventsMetrics } from './events.metrics.js';
import { InProcessDriver } from './in-process.driver.js';
import { NoDeliveryDriver } from './no-delivery.driver.js';
import { DbOutbox, Outbox } from './outbox.js';
import { OutboxStore } from './outbox.store.js';
import { RedisStreamsDriver } from './redis/redis-streams.driver.js';

/**
 * Delivery of what the homeserver must learn: the transactional outbox (`Outbox`, used by every
 * module that changes sessions or accounts) and the driver that delivers it — Redis Streams when
 * `redis.url` is set, in-process otherwise (single replica; config refuses `replicas > 1` without Redis).
 * `deliver: false` (the `causeway manage` CLI) writes outbox rows and reads dead letters but
 * delivers nothing: the running server picks the rows up (it polls the outbox).
 */
@Module({})
export class EventsModule {
  static forRoot(opts: { deliver: boolean } = { deliver: true }): DynamicModule {
    return {
      module: EventsModule,
      global: true,
      providers: [
        { provide: DbOutbox, useFactory: () => new DbOutbox() },
        { provide: Outbox, useExisting: DbOutbox },
        OutboxStore,
        EventsMetrics,
        EventDelivery,
        opts.deliver
          ? {
              provide: BusDriver,
              inject: [CONFIG, REDIS, OutboxStore, EventDelivery, LOGGER],
              useFactory: (config: GatewayConfig, redis: Redis | null, store: OutboxStore, delivery: EventDelivery, logger: Logger) => {
                const log = logger.child({ component: 'events' });
                return redis && config.redis ? new RedisStreamsDriver(redis, config.redis.key_prefix, store, delivery, config.events, log) : new InProcessDriver(store, delivery, log);
              },
            }
          : { provide: BusDriver, useValue: new NoDeliveryDriver() },
        EventBus,
      ],
      exports: [Outbox, EventBus],
    };
  }
}
