import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { Database } from '../../storage/database.service.js';
import { SessionEndRepository, type DeadSessionRule } from '../../storage/repositories/session-end/session-end.repository.js';
import type { EndReason } from '../oauth2.contracts.js';
import { SessionActivity } from './session-activity.js';
import { SessionEnder, type SessionIds } from './session-ender.js';

/** Sessions ended (or, in a dry run, that would end) by one lifecycle pass. */
export interface LifecycleReport {
  /** Not used for `sessions.inactive_after`. */
  inactive: { oauth: number; compat: number };
  /** Every token expired, refresh token included: the client never came back. */
  expired: number;
}

/** How a sweep step runs: its `now`, rows per statement, dry run (count only), a check before each batch, a batch timer. */
export interface BatchOptions {
  now: number;
  batch: number;
  dryRun?: boolean;
  proceed?: () => Promise<boolean>;
  observe?: (ms: number) => void;
}

interface DeadSessions {
  kind: keyof SessionIds;
  reason: Extract<EndReason, 'inactive' | 'expired'>;
  /** Which live sessions are past the cutoff (storage's SessionEndRepository). */
  rule: DeadSessionRule;
}

const RULES: DeadSessions[] = [
  { kind: 'oauth', reason: 'expired', rule: 'oauth-expired' },
  // A personal access token lives as long as the admin who issued it said (its expires_at), however
  // rarely a bot uses it: 'oauth-inactive' leaves personal-token sessions out.
  { kind: 'oauth', reason: 'inactive', rule: 'oauth-inactive' },
  { kind: 'compat', reason: 'inactive', rule: 'compat-inactive' },
];

/**
 * Ends OAuth 2.0 and compat sessions nobody can or does use any more (`sessions.inactive_after`;
 * `expires_at` passed), so that their devices leave the homeserver (SessionEnder writes the
 * `devices.sync` outbox row) and retention can later delete them. Each batch is one short
 * transaction over a partial index of live sessions; run by the maintenance sweep, one replica
 * at a time.
 */
@Injectable()
export class SessionLifecycle {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly ends: SessionEndRepository,
    private readonly ender: SessionEnder,
    private readonly activity: SessionActivity,
  ) {}

  /** `proceed` is asked before every batch (false: stop, e.g. the lease was lost); `observe` gets each batch's duration (ms). */
  async endDeadSessions(o: BatchOptions): Promise<LifecycleReport> {
    // Uses seen by this process but not yet written must count.
    await this.activity.flush();
    const report: LifecycleReport = { inactive: { oauth: 0, compat: 0 }, expired: 0 };
    const idleMs = this.config.sessions.inactive_after * 1000;
    for (const rule of RULES) {
      let cutoff: number;
      if (rule.reason === 'inactive') {
        if (idleMs <= 0) continue;
        cutoff = o.now - idleMs;
      } else cutoff = o.now;
      const n = o.dryRun ? await this.ends.countDead(rule.rule, cutoff) : await this.endAll(rule, cutoff, o);
      if (rule.reason === 'expired') report.expired += n;
      else report.inactive[rule.kind as 'oauth' | 'compat'] += n;
    }
    return report;
  }

  private async endAll(rule: DeadSessions, cutoff: number, o: BatchOptions): Promise<number> {
    let total = 0;
    for (;;) {
      if (o.proceed && !(await o.proceed())) break;
      const { picked, ended, ms } = await this.db.transaction(async (em) => {
        // Timed inside the transaction: its wait in SQLite's queue is not time it holds anyone up.
        const started = performance.now();
        const ids = await this.ends.deadIds(em, rule.rule, cutoff, o.batch);
        const n = ids.length ? await this.ender.endSessions(em, { [rule.kind]: ids }, rule.reason, 'system', o.now) : 0;
        return { picked: ids.length, ended: n, ms: performance.now() - started };
      });
      o.observe?.(ms);
      if (ended) this.ender.committed();
      total += ended;
      if (picked < o.batch) break;
      await new Promise((r) => setImmediate(r));
    }
    return total;
  }
}
