import { Injectable } from '@nestjs/common';
import { Database, type Tx } from '../../storage/database.service.js';
import { BrowserSessionRepository, type UpstreamSessionRecord } from '../../storage/repositories/browser-session.repository.js';
import { DeviceSessionRepository } from '../../storage/repositories/device-session.repository.js';
import { OAuth2TokenRepository } from '../../storage/repositories/oauth2-token.repository.js';
import { SessionTerminator, type EndReason, type UpstreamSessionMatch } from '../oauth2.contracts.js';
import { SessionEnder } from './session-ender.js';
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
    private readonly tokens: OAuth2TokenRepository,
    private readonly deviceSessions: DeviceSessionRepository,
    private readonly browserSessions: BrowserSessionRepository,
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
    const n = await this.db.transaction(async (tx) => this.ender.end(tx, await this.tokens.liveIdsOfClient(tx, clientId), reason, actor));
    if (n) this.ender.committed();
    return n;
  }

  async endSessionsWithScope(userId: string, scopeTokens: readonly string[], reason: EndReason, actor = 'system'): Promise<number> {
    const n = await this.db.transaction(async (tx) => {
      const live = await this.tokens.liveScopesOf(tx, userId);
      return this.ender.end(
        tx,
        live.filter((s) => s.scope.split(' ').some((t) => scopeTokens.includes(t))).map((s) => s.id),
        reason,
        actor,
      );
    });
    if (n) this.ender.committed();
    return n;
  }

  async endCompatSessionsOfUser(userId: string, reason: EndReason): Promise<number> {
    const n = await this.db.transaction(async (tx) => this.ender.endSessions(tx, { compat: (await this.deviceSessions.liveIdsOf(tx, userId)).compat }, reason));
    if (n) this.ender.committed();
    return n;
  }

  async endBrowserSession(browserSessionId: string, reason: EndReason, actor = 'system'): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction(async (tx) => {
      await this.browserSessions.finish(tx, browserSessionId, now);
      await this.ender.endSessions(tx, await this.deviceSessions.liveBornFrom(tx, [browserSessionId]), reason, actor, now);
    });
    this.ender.committed();
  }

  async endAllSessionsOfUser(userId: string, reason: EndReason, actor = 'system'): Promise<number> {
    const now = this.clock.now();
    const n = await this.db.transaction(async (tx) => {
      await this.browserSessions.finishAllOf(tx, userId, now);
      return this.ender.endSessions(tx, await this.deviceSessions.liveIdsOf(tx, userId), reason, actor, now);
    });
    this.ender.committed();
    return n;
  }

  async endUpstreamSessions(providerId: string, match: UpstreamSessionMatch): Promise<number> {
    if (!match.upstreamSid && !match.subject) return 0;
    const now = this.clock.now();
    const n = await this.db.transaction(async (tx) => {
      // Both given (an OIDC logout token with sid and sub): a session must match both, so a sid
      // that happens to be reused for another subject ends nothing of theirs.
      const upstream = await this.browserSessions.liveUpstreamSessions(tx, providerId, match);
      const ended = await this.endFromUpstream(tx, providerId, upstream, now);
      // Every logout the IdP sent is recorded, also one that found nothing live.
      const users = [...new Set(upstream.map((u) => u.userId))];
      await this.audit.record(tx, {
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
  private async endFromUpstream(tx: Tx, providerId: string, upstream: UpstreamSessionRecord[], now: number): Promise<number> {
    if (upstream.length === 0) return 0;
    const upstreamIds = upstream.map((u) => u.id);
    await this.browserSessions.endUpstreamSessions(tx, upstreamIds, now);
    const browserIds = [...new Set([...upstream.map((u) => u.browserSessionId), ...(await this.browserSessions.idsFromUpstream(tx, upstreamIds))].filter((b): b is string => !!b))];
    if (browserIds.length === 0) return 0;
    const browsers = await this.browserSessions.finishMany(tx, browserIds, now);
    // Browser sessions and the OAuth and compat sessions born from them (0: the upstream session was known but nothing was live).
    return browsers + (await this.ender.endSessions(tx, await this.deviceSessions.liveBornFrom(tx, browserIds), 'upstream_logout', `upstream:${providerId}`, now));
  }
}
