import { Injectable } from '@nestjs/common';
import { In, IsNull } from 'typeorm';
import { Database } from '../../storage/database.service.js';
import { BrowserSessionEntity, OAuth2SessionEntity, UpstreamSessionEntity } from '../../storage/entities/index.js';
import { SessionTerminator, type EndReason, type UpstreamSessionMatch } from '../oauth2.contracts.js';
import { SessionEnder } from './session-ender.js';

/**
 * SessionTerminator: each call is ONE transaction that ends the sessions, revokes their tokens and
 * writes the outbox rows; introspection caches are cleared as soon as it commits.
 */
@Injectable()
export class SessionTerminatorService extends SessionTerminator {
  constructor(
    private readonly db: Database,
    private readonly ender: SessionEnder,
  ) {
    super();
  }

  async endOAuthSession(sessionId: string, reason: EndReason): Promise<void> {
    const n = await this.db.transaction((em) => this.ender.end(em, [sessionId], reason));
    if (n) this.ender.committed();
  }

  async endBrowserSession(browserSessionId: string, reason: EndReason): Promise<void> {
    const now = Date.now();
    await this.db.transaction(async (em) => {
      await em.update(BrowserSessionEntity, { id: browserSessionId, finished_at: IsNull() }, { finished_at: now });
      const sessions = await em.find(OAuth2SessionEntity, { where: { browser_session_id: browserSessionId, finished_at: IsNull() }, select: { id: true } });
      await this.ender.end(em, sessions.map((s) => s.id), reason, 'system', now);
    });
    this.ender.committed();
  }

  async endAllSessionsOfUser(userId: string, reason: EndReason): Promise<number> {
    const now = Date.now();
    const n = await this.db.transaction(async (em) => {
      await em.update(BrowserSessionEntity, { user_id: userId, finished_at: IsNull() }, { finished_at: now });
      const sessions = await em.find(OAuth2SessionEntity, { where: { user_id: userId, finished_at: IsNull() }, select: { id: true } });
      return this.ender.end(em, sessions.map((s) => s.id), reason, 'system', now);
    });
    this.ender.committed();
    return n;
  }

  async endUpstreamSessions(providerId: string, match: UpstreamSessionMatch): Promise<number> {
    if (!match.upstreamSid && !match.subject) return 0;
    const now = Date.now();
    const n = await this.db.transaction(async (em) => {
      const where = match.upstreamSid
        ? { provider_id: providerId, upstream_sid: match.upstreamSid, ended_at: IsNull() }
        : { provider_id: providerId, subject: match.subject!, ended_at: IsNull() };
      const upstream = await em.find(UpstreamSessionEntity, { where });
      if (upstream.length === 0) return 0;
      await em.update(UpstreamSessionEntity, { id: In(upstream.map((u) => u.id)) }, { ended_at: now });
      const browserIds = [
        ...new Set(
          [
            ...upstream.map((u) => u.browser_session_id),
            ...(await em.find(BrowserSessionEntity, { where: { upstream_session_id: In(upstream.map((u) => u.id)) }, select: { id: true } })).map((b) => b.id),
          ].filter((b): b is string => !!b),
        ),
      ];
      if (browserIds.length === 0) return 0;
      const browsers = await em.update(BrowserSessionEntity, { id: In(browserIds), finished_at: IsNull() }, { finished_at: now });
      const sessions = await em.find(OAuth2SessionEntity, { where: { browser_session_id: In(browserIds), finished_at: IsNull() }, select: { id: true } });
      // Browser sessions and OAuth sessions ended (0: the upstream session was known but nothing was live).
      return (browsers.affected ?? 0) + (await this.ender.end(em, sessions.map((s) => s.id), 'upstream_logout', `upstream:${providerId}`, now));
    });
    this.ender.committed();
    return n;
  }
}
