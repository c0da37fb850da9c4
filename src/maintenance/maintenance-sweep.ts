import type { GatewayConfig } from '../config/config.schema.js';
import type { Clock } from '../clock/clock.js';
import type { BrowserSessionsService } from '../identity/browser-sessions.service.js';
import type { LifecycleReport, SessionLifecycle } from '../oauth2/sessions/session-lifecycle.js';
import { RETENTION_RULES, type Deleted, type RetentionCutoffs, type RetentionStore } from '../storage/retention.js';

/** What one sweep did (or, in a dry run, would do). */
export interface SweepReport {
  dryRun: boolean;
  /** Sessions ended by `sessions.*` (idle, expired). */
  sessionsEnded: LifecycleReport;
  /** Browser sessions marked finished (past their lifetime or idle). */
  browserSessionsFinished: number;
  /** Rows deleted per table (a dry run: rows of each rule's own table that would go; children not counted). */
  deleted: Deleted;
  /** The longest single statement of the sweep, in ms (its own time, not a wait for the database): how long a concurrent sign-in could have waited behind it. */
  longestBatchMs: number;
  batches: number;
  durationMs: number;
  /** The sweep stopped early (the lease was lost, or the process is stopping). */
  interrupted: boolean;
}

export interface SweepHooks {
  /** Asked before every batch; false stops the sweep (lease lost, shutdown). */
  proceed?: () => Promise<boolean>;
  /** Every statement's duration (ms) and the rows it deleted, per table. */
  onBatch?: (ms: number, deleted?: Deleted) => void;
}

/** The cutoffs of the retention rules at `now` (docs/operator/policy.md). */
export function retentionCutoffs(config: GatewayConfig, now: number): RetentionCutoffs {
  const r = config.retention;
  return {
    tokens: now - r.tokens * 1000,
    sessions: now - r.sessions * 1000,
    outbox: now - r.outbox * 1000,
    ...(r.audit !== undefined ? { audit: now - r.audit * 1000 } : {}),
    kv: now,
  };
}

/**
 * One maintenance pass: first the session lifecycle (idle and expired sessions end, their devices
 * leave the homeserver; dead browser sessions are marked finished), then retention (old rows are
 * deleted, rule by rule, in batches of `retention.batch_size`). The caller holds the maintenance
 * lease (MaintenanceScheduler, or `causeway manage cleanup`). Plain class: the CLI builds it
 * without the HTTP server.
 */
export class MaintenanceSweep {
  constructor(
    private readonly config: GatewayConfig,
    private readonly clock: Clock,
    private readonly lifecycle: SessionLifecycle,
    private readonly browserSessions: BrowserSessionsService,
    private readonly retention: RetentionStore,
  ) {}

  async run(o: { dryRun?: boolean } & SweepHooks = {}): Promise<SweepReport> {
    const started = performance.now();
    const now = this.clock.now();
    const batch = this.config.retention.batch_size;
    const dryRun = !!o.dryRun;
    let interrupted = false;
    let longest = 0;
    let batches = 0;
    const observe = (ms: number, deleted?: Deleted) => {
      longest = Math.max(longest, ms);
      batches++;
      o.onBatch?.(ms, deleted);
    };
    const proceed = async () => {
      if (!o.proceed || (await o.proceed())) return true;
      interrupted = true;
      return false;
    };
    const step = { now, batch, dryRun, proceed, observe: (ms: number) => observe(ms) };

    const sessionsEnded = await this.lifecycle.endDeadSessions(step);
    const browserSessionsFinished = await this.browserSessions.finishExpired(step);

    const cutoffs = retentionCutoffs(this.config, now);
    const deleted: Deleted = {};
    const add = (d: Deleted) => {
      for (const [t, n] of Object.entries(d) as [keyof Deleted, number][]) deleted[t] = (deleted[t] ?? 0) + n;
    };
    for (const rule of RETENTION_RULES) {
      const cutoff = cutoffs[rule.cutoff];
      if (cutoff === undefined) continue;
      if (dryRun) {
        add({ [rule.table]: await this.retention.count(rule, cutoff) });
        continue;
      }
      for (;;) {
        if (!(await proceed())) break;
        const { deleted: d, ms } = await this.retention.deleteBatch(rule, cutoff, batch);
        observe(ms, d);
        add(d);
        if ((d[rule.table] ?? 0) < batch) break;
        // Let waiting requests run between two statements.
        await new Promise((r) => setImmediate(r));
      }
      if (interrupted) break;
    }
    return { dryRun, sessionsEnded, browserSessionsFinished, deleted, longestBatchMs: Math.round(longest * 100) / 100, batches, durationMs: Math.round(performance.now() - started), interrupted };
  }
}
