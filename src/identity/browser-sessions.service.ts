import { Inject, Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { Assertion } from '../upstream/connector.js';
import { Database } from '../storage/database.service.js';
import { BrowserSessionEntity, UpstreamSessionEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';
import type { BrowserSession, UpstreamSession } from './identity.types.js';
import { Clock, SystemClock } from '../clock/clock.js';

/** Browser-session use is recorded at most this often. */
const ACTIVITY_RESOLUTION_MS = 60_000;

const toBrowserSession = (e: BrowserSessionEntity): BrowserSession => ({
  id: e.id,
  userId: e.user_id,
  providerId: e.provider_id,
  upstreamSessionId: e.upstream_session_id,
  createdAt: e.created_at,
  authenticatedAt: e.authenticated_at,
  lastActiveAt: e.last_active_at,
  finishedAt: e.finished_at,
  userAgent: e.user_agent,
});

const toUpstreamSession = (e: UpstreamSessionEntity): UpstreamSession => ({
  id: e.id,
  providerId: e.provider_id,
  subject: e.subject,
  userId: e.user_id,
  upstreamSid: e.upstream_sid,
  details: e.details,
  browserSessionId: e.browser_session_id,
  createdAt: e.created_at,
  endedAt: e.ended_at,
});

/**
 * Browser sessions (a user signed in at Causeway in one browser, `login.browser_session_ttl`) and
 * the upstream session each one was born from (for inbound logout and upstream logout URLs).
 */
@Injectable()
export class BrowserSessionsService {
  constructor(
    private readonly db: Database,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  /** Records a sign-in: the upstream session (sid / session index / ticket) and the browser session bound to it. */
  async start(
    s: { userId: string; providerId: string; assertion?: Assertion; userAgent?: string | null; ip?: string | null },
    now = this.clock.now(),
  ): Promise<BrowserSession> {
    return this.db.transaction(async (em) => {
      const browser: BrowserSessionEntity = {
        id: ulid(now),
        user_id: s.userId,
        provider_id: s.providerId,
        upstream_session_id: null,
        created_at: now,
        authenticated_at: now,
        last_active_at: now,
        finished_at: null,
        user_agent: s.userAgent ? s.userAgent.slice(0, 512) : null,
        last_active_ip: s.ip ? s.ip.slice(0, 64) : null,
      };
      if (s.assertion) {
        const upstream: UpstreamSessionEntity = {
          id: ulid(now),
          provider_id: s.providerId,
          subject: s.assertion.subject,
          user_id: s.userId,
          upstream_sid: s.assertion.upstreamSid ?? null,
          details: s.assertion.sessionDetails ?? null,
          browser_session_id: browser.id,
          created_at: now,
          ended_at: null,
        };
        browser.upstream_session_id = upstream.id;
        // The browser session first: the upstream session's browser_session_id refers to it.
        await em.insert(BrowserSessionEntity, browser);
        await em.insert(UpstreamSessionEntity, upstream as never);
      } else {
        await em.insert(BrowserSessionEntity, browser);
      }
      return toBrowserSession(browser);
    });
  }

  /**
   * The session if it is still usable: not finished, younger than `login.browser_session_ttl` and
   * used within `sessions.browser_inactive_after`. Using it records the activity (at most once a
   * minute: a page view is not worth a write each time).
   */
  async findActive(id: string, now = this.clock.now()): Promise<BrowserSession | undefined> {
    const e = await this.db.manager.findOneBy(BrowserSessionEntity, { id });
    if (!e || !this.usable(e, now)) return undefined;
    if (now - (e.last_active_at ?? e.created_at) >= ACTIVITY_RESOLUTION_MS) {
      await this.db.transaction((em) => em.update(BrowserSessionEntity, { id, finished_at: IsNull() }, { last_active_at: now }));
      e.last_active_at = now;
    }
    return toBrowserSession(e);
  }

  async activeForUser(userId: string, now = this.clock.now()): Promise<BrowserSession[]> {
    const rows = await this.db.manager.find(BrowserSessionEntity, { where: { user_id: userId, finished_at: IsNull() }, order: { created_at: 'DESC' } });
    return rows.filter((r) => this.usable(r, now)).map(toBrowserSession);
  }

  /**
   * Marks browser sessions finished once they are past `login.browser_session_ttl` or idle for
   * `sessions.browser_inactive_after`, as of the moment they became unusable (so retention, which
   * counts from `finished_at`, deletes long-dead ones without waiting again). The sessions born
   * from them live on: the cookie's lifetime is not theirs. At most `batch` rows per statement;
   * returns how many (a dry run counts).
   */
  async finishExpired(o: { now: number; batch: number; dryRun?: boolean; proceed?: () => Promise<boolean>; observe?: (ms: number) => void }): Promise<number> {
    // Each rule: the column a session dies by, and how long after it (finished_at is set to that moment).
    const rules: { column: string; lifetime: number }[] = [{ column: 'created_at', lifetime: this.config.login.browser_session_ttl * 1000 }];
    const idle = this.config.sessions.browser_inactive_after * 1000;
    if (idle > 0) rules.push({ column: 'last_active_at', lifetime: idle });
    const sql = (t: string) => (this.db.kind === 'postgres' ? t : t.replace(/\$\d+/g, '?'));
    let total = 0;
    for (const { column, lifetime } of rules) {
      const cutoff = o.now - lifetime;
      if (o.dryRun) {
        const [row] = (await this.db.manager.query(sql(`SELECT count(*) AS n FROM browser_sessions WHERE finished_at IS NULL AND ${column} < $1`), [cutoff])) as { n: string }[];
        total += Number(row?.n ?? 0);
        continue;
      }
      const update = sql(
        `UPDATE browser_sessions SET finished_at = ${column} + $1 WHERE id IN (SELECT id FROM browser_sessions WHERE finished_at IS NULL AND ${column} < $2 ORDER BY ${column} LIMIT $3) RETURNING id`,
      );
      for (;;) {
        if (o.proceed && !(await o.proceed())) return total;
        const { n, ms } = await this.db.transaction(async (em) => {
          const started = performance.now();
          const rows = (await em.queryRunner!.query(update, [lifetime, cutoff, o.batch], true)).records as unknown[];
          return { n: rows.length, ms: performance.now() - started };
        });
        o.observe?.(ms);
        total += n;
        if (n < o.batch) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    return total;
  }

  private usable(e: BrowserSessionEntity, now: number): boolean {
    if (e.finished_at !== null) return false;
    if (now >= e.created_at + this.config.login.browser_session_ttl * 1000) return false;
    const idle = this.config.sessions.browser_inactive_after * 1000;
    return !(idle > 0 && now >= (e.last_active_at ?? e.created_at) + idle);
  }

  async upstreamSession(id: string): Promise<UpstreamSession | undefined> {
    const e = await this.db.manager.findOneBy(UpstreamSessionEntity, { id });
    return e ? toUpstreamSession(e) : undefined;
  }
}
