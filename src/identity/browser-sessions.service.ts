import { Inject, Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { Assertion } from '../upstream/connector.js';
import { Database } from '../storage/database.service.js';
import { BrowserSessionEntity, UpstreamSessionEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';
import type { BrowserSession, UpstreamSession } from './identity.types.js';

const toBrowserSession = (e: BrowserSessionEntity): BrowserSession => ({
  id: e.id,
  userId: e.user_id,
  providerId: e.provider_id,
  upstreamSessionId: e.upstream_session_id,
  createdAt: e.created_at,
  authenticatedAt: e.authenticated_at,
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
  ) {}

  /** Records a sign-in: the upstream session (sid / session index / ticket) and the browser session bound to it. */
  async start(
    s: { userId: string; providerId: string; assertion?: Assertion; userAgent?: string | null; ip?: string | null },
    now = Date.now(),
  ): Promise<BrowserSession> {
    return this.db.transaction(async (em) => {
      const browser: BrowserSessionEntity = {
        id: ulid(now),
        user_id: s.userId,
        provider_id: s.providerId,
        upstream_session_id: null,
        created_at: now,
        authenticated_at: now,
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
        await em.insert(UpstreamSessionEntity, upstream as never);
        browser.upstream_session_id = upstream.id;
      }
      await em.insert(BrowserSessionEntity, browser);
      return toBrowserSession(browser);
    });
  }

  /** The session if it is still usable: not finished and younger than `login.browser_session_ttl`. */
  async findActive(id: string, now = Date.now()): Promise<BrowserSession | undefined> {
    const e = await this.db.manager.findOneBy(BrowserSessionEntity, { id });
    if (!e || e.finished_at !== null) return undefined;
    if (now >= e.created_at + this.config.login.browser_session_ttl * 1000) return undefined;
    return toBrowserSession(e);
  }

  async activeForUser(userId: string, now = Date.now()): Promise<BrowserSession[]> {
    const rows = await this.db.manager.find(BrowserSessionEntity, { where: { user_id: userId, finished_at: IsNull() }, order: { created_at: 'DESC' } });
    const ttl = this.config.login.browser_session_ttl * 1000;
    return rows.filter((r) => now < r.created_at + ttl).map(toBrowserSession);
  }

  async upstreamSession(id: string): Promise<UpstreamSession | undefined> {
    const e = await this.db.manager.findOneBy(UpstreamSessionEntity, { id });
    return e ? toUpstreamSession(e) : undefined;
  }
}
