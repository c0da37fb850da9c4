import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Clock, SystemClock } from '../../clock/clock.js';
import { LOGGER } from '../../http/logger.module.js';
import { Database, prepared } from '../../storage/database.service.js';

export type ActiveSessionKind = 'oauth' | 'compat';

/** Unflushed activity is written this often: `sessions.inactive_after` is meant in days, not seconds. */
export const ACTIVITY_FLUSH_MS = 60_000;
const FLUSH_BATCH = 1000;

const TABLE: Record<ActiveSessionKind, string> = { oauth: 'oauth2_sessions', compat: 'compat_sessions' };
const pgFlush = (table: string) =>
  `UPDATE ${table} AS s SET last_active_at = v.t FROM unnest($1::varchar[], $2::bigint[]) AS v(id, t)
   WHERE s.id = v.id AND s.finished_at IS NULL AND (s.last_active_at IS NULL OR s.last_active_at < v.t)`;
const sqliteFlush = (table: string) => `UPDATE ${table} SET last_active_at = ? WHERE id = ? AND finished_at IS NULL AND (last_active_at IS NULL OR last_active_at < ?)`;

/**
 * When sessions were last used, as seen by introspection (every request a client makes at the
 * homeserver is introspected, cached briefly on both sides). Writing `last_active_at` on every
 * introspection would put a write on the hottest path, so uses are collected in memory and
 * written in one statement per kind about once a minute (and at shutdown, and before a lifecycle
 * sweep in this process), as MAS's activity tracker does.
 */
@Injectable()
export class SessionActivity implements OnModuleInit, OnModuleDestroy {
  private pending: Record<ActiveSessionKind, Map<string, number>> = { oauth: new Map(), compat: new Map() };
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => void this.flush().catch((err) => this.logger.warn({ err }, 'session activity: flush failed')), ACTIVITY_FLUSH_MS);
    this.timer.unref();
  }

  async onModuleDestroy() {
    clearInterval(this.timer);
    await this.flush().catch((err) => this.logger.warn({ err }, 'session activity: final flush failed'));
  }

  record(kind: ActiveSessionKind, sessionId: string, at = this.clock.now()): void {
    const m = this.pending[kind];
    if ((m.get(sessionId) ?? 0) < at) m.set(sessionId, at);
  }

  /** Activity recorded here and not yet written. */
  lastSeen(kind: ActiveSessionKind, sessionId: string): number | undefined {
    return this.pending[kind].get(sessionId);
  }

  /** Writes what was recorded (one flush at a time). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    for (const kind of ['oauth', 'compat'] as const) {
      const entries = [...this.pending[kind]];
      if (!entries.length) continue;
      this.pending[kind] = new Map();
      for (let i = 0; i < entries.length; i += FLUSH_BATCH) {
        const batch = entries.slice(i, i + FLUSH_BATCH);
        if (this.db.kind === 'postgres') {
          await this.db.pgQuery(`causeway_activity_${kind}`, pgFlush(TABLE[kind]), [batch.map(([id]) => id), batch.map(([, t]) => t)]);
        } else {
          await this.db.sqliteTransaction((conn) => {
            const st = prepared(conn, sqliteFlush(TABLE[kind]));
            for (const [id, t] of batch) st.run(BigInt(t), id, BigInt(t));
          });
        }
      }
    }
  }
}
