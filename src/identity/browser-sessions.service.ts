import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { Assertion } from '../upstream/connector.js';
import { BrowserSessionRepository } from '../storage/repositories/browser-session.repository.js';
import { ulid } from '../storage/ulid.js';
import type { BrowserSession, UpstreamSession } from './identity.types.js';
import { Clock, SystemClock } from '../clock/clock.js';

/** Browser-session use is recorded at most this often. */
const ACTIVITY_RESOLUTION_MS = 60_000;

/**
 * Browser sessions (a user signed in at Causeway in one browser, `login.browser_session_ttl`) and
 * the upstream session each one was born from (for inbound logout and upstream logout URLs).
 */
@Injectable()
export class BrowserSessionsService {
  constructor(
    private readonly repo: BrowserSessionRepository,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  /** Records a sign-in: the upstream session (sid / session index / ticket) and the browser session bound to it. */
  async start(s: { userId: string; providerId: string; assertion?: Assertion; userAgent?: string | null; ip?: string | null }, now = this.clock.now()): Promise<BrowserSession> {
    const browser = {
      id: ulid(now),
      userId: s.userId,
      providerId: s.providerId,
      upstreamSessionId: null as string | null,
      createdAt: now,
      authenticatedAt: now,
      lastActiveAt: now,
      finishedAt: null,
      userAgent: s.userAgent ? s.userAgent.slice(0, 512) : null,
      lastActiveIp: s.ip ? s.ip.slice(0, 64) : null,
    };
    const upstream = s.assertion
      ? { id: ulid(now), providerId: s.providerId, subject: s.assertion.subject, userId: s.userId, upstreamSid: s.assertion.upstreamSid ?? null, details: s.assertion.sessionDetails ?? null, createdAt: now }
      : undefined;
    browser.upstreamSessionId = upstream?.id ?? null;
    await this.repo.insert(browser, upstream);
    const { lastActiveIp: _ip, ...session } = browser;
    return session;
  }

  /**
   * The session if it is still usable: not finished, younger than `login.browser_session_ttl` and
   * used within `sessions.browser_inactive_after`. Using it records the activity (at most once a
   * minute: a page view is not worth a write each time).
   */
  async findActive(id: string, now = this.clock.now()): Promise<BrowserSession | undefined> {
    const e = await this.repo.find(id);
    if (!e || !this.usable(e, now)) return undefined;
    if (now - (e.lastActiveAt ?? e.createdAt) >= ACTIVITY_RESOLUTION_MS) {
      await this.repo.touch(id, now);
      e.lastActiveAt = now;
    }
    return e;
  }

  async activeForUser(userId: string, now = this.clock.now()): Promise<BrowserSession[]> {
    return (await this.repo.unfinishedOf(userId)).filter((r) => this.usable(r, now));
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
    const rules: { column: 'created_at' | 'last_active_at'; lifetime: number }[] = [{ column: 'created_at', lifetime: this.config.login.browser_session_ttl * 1000 }];
    const idle = this.config.sessions.browser_inactive_after * 1000;
    if (idle > 0) rules.push({ column: 'last_active_at', lifetime: idle });
    let total = 0;
    for (const { column, lifetime } of rules) {
      const cutoff = o.now - lifetime;
      if (o.dryRun) {
        total += await this.repo.countUnfinishedBefore(column, cutoff);
        continue;
      }
      for (;;) {
        if (o.proceed && !(await o.proceed())) return total;
        const { n, ms } = await this.repo.finishBatch(column, lifetime, cutoff, o.batch);
        o.observe?.(ms);
        total += n;
        if (n < o.batch) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    return total;
  }

  private usable(e: BrowserSession, now: number): boolean {
    if (e.finishedAt !== null) return false;
    if (now >= e.createdAt + this.config.login.browser_session_ttl * 1000) return false;
    const idle = this.config.sessions.browser_inactive_after * 1000;
    return !(idle > 0 && now >= (e.lastActiveAt ?? e.createdAt) + idle);
  }

  async upstreamSession(id: string): Promise<UpstreamSession | undefined> {
    return this.repo.upstreamSession(id);
  }
}
