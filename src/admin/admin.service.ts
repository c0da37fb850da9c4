import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { IdentityError } from '../identity/identity-errors.js';
import type { User } from '../identity/identity.types.js';
import { UserLifecycle } from '../identity/user-lifecycle.service.js';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { Database } from '../storage/database.service.js';
import { CompatSessionEntity, OAuth2SessionEntity } from '../storage/entities/index.js';
import { AuditLogRepository } from '../storage/repositories/audit-log.repository.js';

export interface AdminUserView {
  id: string;
  localpart: string;
  created_at: number;
  locked_at: number | null;
  deactivated_at: number | null;
  active_sessions: number;
}

const ACTOR = 'admin-token';

/** Account actions of the admin API, on the identity module's UserLifecycle. */
@Injectable()
export class AdminService {
  constructor(
    private readonly db: Database,
    private readonly lifecycle: UserLifecycle,
    private readonly sessions: SessionTerminator,
    private readonly audit: AuditLogRepository,
  ) {}

  findUser(ref: string): Promise<User> {
    return this.lifecycle.get(ref);
  }

  async view(user: User): Promise<AdminUserView> {
    const where = { user_id: user.id, finished_at: IsNull() };
    // OAuth sessions and legacy `/login` (compat) sessions alike.
    const active = (await this.db.manager.count(OAuth2SessionEntity, { where })) + (await this.db.manager.count(CompatSessionEntity, { where }));
    return { id: user.id, localpart: user.localpart, created_at: user.createdAt, locked_at: user.lockedAt, deactivated_at: user.deactivatedAt, active_sessions: active };
  }

  async deactivateUser(ref: string, erase: boolean, actor = ACTOR): Promise<AdminUserView & { sessions_ended: number }> {
    const r = await this.lifecycle.deactivateUser((await this.findUser(ref)).id, erase, actor);
    return { ...(await this.view(r.user)), sessions_ended: r.sessionsEnded };
  }

  async lock(ref: string): Promise<AdminUserView & { sessions_ended: number }> {
    const r = await this.lifecycle.lock((await this.findUser(ref)).id, ACTOR);
    return { ...(await this.view(r.user)), sessions_ended: r.sessionsEnded };
  }

  async unlock(ref: string): Promise<AdminUserView> {
    return this.view(await this.lifecycle.unlock((await this.findUser(ref)).id, ACTOR));
  }

  async endAllSessions(ref: string): Promise<number> {
    const user = await this.findUser(ref);
    const ended = await this.sessions.endAllSessionsOfUser(user.id, 'admin', ACTOR);
    await this.audit.recordNow({ actor: ACTOR, action: 'user.sessions.end_all', target: user.id, userId: user.id, details: { localpart: user.localpart, ended } });
    return ended;
  }

  /** One session by id: an OAuth session or a compat (legacy `/login`) session. */
  async endSession(sessionId: string): Promise<boolean> {
    const session = await this.db.manager.findOne(OAuth2SessionEntity, { where: { id: sessionId } });
    const compat = session ? null : await this.db.manager.findOne(CompatSessionEntity, { where: { id: sessionId } });
    if (!session && !compat) throw new IdentityError('not_found', 'session not found');
    const ended = session ? await this.sessions.endOAuthSession(sessionId, 'admin', ACTOR) : await this.sessions.endCompatSession(sessionId, 'admin', ACTOR);
    return ended;
  }

  async auditEvent(action: string, target: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.recordNow({ actor: ACTOR, action, target, details });
  }
}
