import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Clock } from '../clock/clock.js';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { MetricsService } from '../health/metrics.service.js';
import { LOGGER } from '../http/logger.module.js';
import { BrowserSessionsService } from '../identity/browser-sessions.service.js';
import { SessionLifecycle } from '../oauth2/sessions/session-lifecycle.js';
import { Database } from '../storage/database.service.js';
import type { Lease } from '../storage/leases.js';
import { RetentionStore } from '../storage/retention.js';
import { REDIS } from '../storage/storage.module.js';
import { MAINTENANCE_LEASE_MS, maintenanceLease } from './maintenance-lease.js';
import { MaintenanceSweep, type SweepReport } from './maintenance-sweep.js';

/**
 * Runs the maintenance sweep every `retention.interval` in whichever replica holds the
 * maintenance lease (Redis, else the database), so two replicas never sweep at once. The lease is
 * renewed between batches; a sweep that cannot renew it stops at once.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sweep: MaintenanceSweep;
  private readonly lease: Lease;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;
  private readonly deletedTotal;
  private readonly endedTotal;
  private readonly batchSeconds;
  private readonly lastSweep;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(REDIS) redis: Redis | null,
    db: Database,
    clock: Clock,
    lifecycle: SessionLifecycle,
    browserSessions: BrowserSessionsService,
    metrics: MetricsService,
  ) {
    this.logger = logger.child({ component: 'maintenance' });
    this.sweep = new MaintenanceSweep(config, clock, lifecycle, browserSessions, new RetentionStore(db));
    this.lease = maintenanceLease(config, db, redis, 'server');
    this.deletedTotal = metrics.counter('causeway_retention_deleted_total', 'Rows deleted by the retention sweeper, by table', ['table']);
    this.endedTotal = metrics.counter('causeway_lifecycle_sessions_ended_total', 'Sessions ended by the lifecycle sweep (sessions.*), by kind and reason', ['kind', 'reason']);
    this.batchSeconds = metrics.histogram('causeway_retention_batch_duration_seconds', 'Duration of each statement of the maintenance sweep', [], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    this.lastSweep = metrics.gauge('causeway_retention_last_sweep_timestamp_seconds', 'When this replica last completed a maintenance sweep');
  }

  private readonly logger: Logger;

  onApplicationBootstrap() {
    if (!this.config.retention.enabled) return;
    // First run soon after start (spread over replicas), then every interval.
    const interval = this.config.retention.interval * 1000;
    const first = Math.min(interval, 5_000) * (0.5 + Math.random() / 2);
    const tick = () => {
      this.running = this.runOnce()
        .catch((err) => this.logger.error({ err }, 'maintenance sweep failed'))
        .then(() => undefined);
      void this.running.then(() => {
        if (!this.stopping) this.timer = setTimeout(tick, interval);
      });
    };
    this.timer = setTimeout(tick, first);
    this.timer.unref();
  }

  async onModuleDestroy() {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep if this replica gets the lease; undefined when another replica holds it. */
  async runOnce(): Promise<SweepReport | undefined> {
    if (!(await this.lease.acquire())) return undefined;
    let renewedAt = Date.now();
    const started = new Date().toISOString();
    this.logger.info({ owner: this.lease.owner, at: started }, 'maintenance sweep started');
    try {
      const report = await this.sweep.run({
        proceed: async () => {
          if (this.stopping) return false;
          if (Date.now() - renewedAt < MAINTENANCE_LEASE_MS / 3) return true;
          if (!(await this.lease.renew())) {
            this.logger.warn({ owner: this.lease.owner }, 'maintenance lease lost; sweep stopped');
            return false;
          }
          renewedAt = Date.now();
          return true;
        },
        onBatch: (ms, deleted) => {
          this.batchSeconds.observe(ms / 1000);
          for (const [table, n] of Object.entries(deleted ?? {})) if (n) this.deletedTotal.inc({ table }, n);
        },
      });
      const e = report.sessionsEnded;
      if (e.expired) this.endedTotal.inc({ kind: 'oauth', reason: 'expired' }, e.expired);
      if (e.inactive.oauth) this.endedTotal.inc({ kind: 'oauth', reason: 'inactive' }, e.inactive.oauth);
      if (e.inactive.compat) this.endedTotal.inc({ kind: 'compat', reason: 'inactive' }, e.inactive.compat);
      this.lastSweep.set(Date.now() / 1000);
      this.logger.info({ owner: this.lease.owner, started, ...report }, 'maintenance sweep finished');
      return report;
    } finally {
      await this.lease.release().catch((err) => this.logger.warn({ err }, 'maintenance lease release failed'));
    }
  }
}
