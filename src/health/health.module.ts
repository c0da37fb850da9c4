import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Database } from '../storage/database.service.js';
import { REDIS } from '../storage/storage.module.js';
import { HealthController } from './health.controller.js';
import { HealthRegistry } from './health.registry.js';
import { MetricsService } from './metrics.service.js';

@Global()
@Module({
  controllers: [HealthController],
  providers: [HealthRegistry, MetricsService],
  exports: [HealthRegistry, MetricsService],
})
export class HealthModule implements OnModuleInit {
  constructor(
    private readonly registry: HealthRegistry,
    private readonly db: Database,
    @Inject(REDIS) private readonly redis: Redis | null,
  ) {}

  onModuleInit() {
    this.registry.register({
      name: 'database',
      check: async () => {
        await this.db.manager.query('SELECT 1');
        return { status: 'up' };
      },
    });
    if (this.redis) {
      const redis = this.redis;
      this.registry.register({
        name: 'redis',
        check: async () => ((await redis.ping()) === 'PONG' ? { status: 'up' } : { status: 'down', detail: 'no PONG' }),
      });
    }
  }
}
