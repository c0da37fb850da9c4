import { Injectable } from '@nestjs/common';
import { In, IsNull, type EntityManager } from 'typeorm';
import { Database } from '../../storage/database.service.js';
import { BrowserSessionEntity, CompatSessionEntity, OAuth2SessionEntity, UpstreamSessionEntity } from '../../storage/entities/index.js';
import { SessionTerminator, type EndReason, type UpstreamSessionMatch } from '../oauth2.contracts.js';
import { SessionEnder, type SessionIds } from './session-ender.js';
import { Clock, SystemClock } from '../../clock/clock.js';
import { AuditLogRepository } from '../../storage/repositories/audit-log.repository.js';
import { AUDIT_ACTIONS } from '../../audit/audit-event.js';

/**
 * SessionTerminator: each call is ONE transaction that ends the sessions (OAuth and compat),
 * revokes their tokens and writes the outbox rows; the revoked tokens leave the introspection
 * caches as soon as it commits.
 */
@Injectable()
export class SessionTerminatorService extends SessionTerminator {
  constructor(
    private readonly db: Database,
    private readonly ender: SessionEnder,
    private readonly audit: AuditLogRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {
    super();
  }

  async endOAuthSession(sessionId: string, reason: EndReason, actor = 'system'): Promise<boolean> {
    const n = await this.db.transaction((em) => this.ender.end(em, [sessionId], reason, actor));
    if (n) this.ender.committed();
    return n > 0;
  }

  async endCompatSession(sessionId: string, reason: EndReason, actor = 'system'): Promise<boolean> {
    const n = await this.db.transaction((em) => this.ender.endSessions(em, { compat: [sessionId] }, reason, actor));
    if (n) this.ender.committed();
    return n > 0;
  }

  async endSessionsOfClient(clientId: string, reason: EndReason, actor = 'system'): Promise<number> {
    const n = await this.db.transaction(async (em) => {
      const oauth = await em.find(OAuth2SessionEntity, { where: { client_id: clientId, finished_at: IsNull() }, select: { id: true } });
      return this.ender.end(em, oauth.map((s) => s.id), reason, actor);
    });
    if (n) this.ender.committed();
    return n;
  }

  async endSessionsWithScope(userId: string, scopeTokens: readonly string[], reason: EndReason, actor = 'system'): Promise<number> {
    const n = await this.db.transaction(async (em) => {
      const live = await em.find(OAuth2SessionEntity, { where: { user_id: userId, finished_at: IsNull() }, select: { id: true, scope: true } });
      return this.ender.end(em, live.filter((s) => s.scope.split(' ').some((t) => scopeTokens.includes(t))).map((s) => s.id), reason, actor);
    });
    if (n) this.ender.committed();
    return n;
  }

  async endCompatSessionsOfUser(userId: string, reason: EndReason): Promise<number> {
    const n = await this.db.transaction(async (em) => {
      const compat = await em.find(CompatSessionEntity, { where: { user_id: userId, finished_at: IsNull() }, select: { id: true } });
      return this.ender.endSessions(em, { compat: compat.map((s) => s.id) }, reason);
    });
    if (n) this.ender.committed();
    return n;
  }

  async endBrowserSession(browserSessionId: string, reason: EndReason, actor = 'system'): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction(async (em) => {
      await em.update(BrowserSessionEntity, { id: browserSessionId, finished_at: IsNull() }, { finished_at: now });
      await this.ender.endSessions(em, await bornFrom(em, [browserSessionId]), reason, actor, now);
    });
    this.ender.committed();
  }

  async endAllSessionsOfUser(userId: string, reason: EndReason, actor = 'system'): Promise<number> {
    const now = this.clock.now();
    const n = await this.db.transaction(async (em) => {
      await em.update(BrowserSessionEntity, { user_id: userId, finished_at: IsNull() }, { finished_at: now });
      const oauth = await em.find(OAuth2SessionEntity, { where: { user_id: userId, finished_at: IsNull() }, select: { id: true } });
      const compat = await em.find(CompatSessionEntity, { where: { user_id: userId, finished_at: IsNull() }, select: { id: true } });
      return this.ender.endSessions(em, { oauth: oauth.map((s) => s.id), compat: compat.map((s) => s.id) }, reason, actor, now);
    });
    this.ender.committed();
    return n;
  }

  async endUpstreamSessions(providerId: string, match: UpstreamSessionMatch): Promise<number> {
    if (!match.upstreamSid && !match.subject) return 0;
    const now = this.clock.now();
    const n = await this.db.transaction(async (em) => {
      // Both given (an OIDC logout token with sid and sub): a session must match both, so a sid
      // that happens to be reused for another subject ends nothing of theirs.
      const where = {
        provider_id: providerId,
        ended_at: IsNull(),
        ...(match.upstreamSid ? { upstream_sid: match.upstreamSid } : {}),
        ...(match.subject ? { subject: match.subject } : {}),
      };
      const upstream = await em.find(UpstreamSessionEntity, { where });
      const ended = await this.endFromUpstream(em, providerId, upstream, now);
      // Every logout the IdP sent is recorded, also one that found nothing live.
      const users = [...new Set(upstream.map((u) => u.user_id))];
      await this.audit.record(em, {
        action: AUDIT_ACTIONS.upstreamLogout,
        actor: `upstream:${providerId}`,
        target: providerId,
        userId: users.length === 1 ? users[0] : null,
        details: { provider: providerId, by: match.upstreamSid ? 'sid' : 'subject', upstream_sessions: upstream.length, sessions_ended: ended, ...(users.length > 1 ? { user_ids: users } : {}) },
        at: now,
      });
      return ended;
    });
    this.ender.committed();
    return n;
  }

  /** Ends the upstream sessions, their browser sessions and every session born from those; returns how many ended. */
  private async endFromUpstream(em: EntityManager, providerId: string, upstream: UpstreamSessionEntity[], now: number): Promise<number> {
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
    // Browser sessions and the OAuth and compat sessions born from them (0: the upstream session was known but nothing was live).
    return (browsers.affected ?? 0) + (await this.ender.endSessions(em, await bornFrom(em, browserIds), 'upstream_logout', `upstream:${providerId}`, now));
  }
}

/** The live sessions of both kinds that a sign-in in these browser sessions produced. */
async function bornFrom(em: EntityManager, browserSessionIds: string[]): Promise<SessionIds> {
  const where = { browser_session_id: In(browserSessionIds), finished_at: IsNull() };
  const oauth = await em.find(OAuth2SessionEntity, { where, select: { id: true } });
  const compat = await em.find(CompatSessionEntity, { where, select: { id: true } });
  return { oauth: oauth.map((s) => s.id), compat: compat.map((s) => s.id) };
}
