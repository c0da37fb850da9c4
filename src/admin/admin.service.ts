import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import type { Logger } from 'pino';
import { Outbox } from '../events/outbox.js';
import { AccountDeactivator } from '../identity/account-deactivator.js';
import { LOGGER } from '../http/logger.module.js';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { Database } from '../storage/database.service.js';
import { AuditLogEntity, CompatSessionEntity, OAuth2SessionEntity, UserEntity } from '../storage/entities/index.js';
import { isUlid, ulid } from '../storage/ulid.js';
import { notFound } from './admin-error.js';

export interface AdminUserView {
  id: string;
  localpart: string;
  created_at: number;
  locked_at: number | null;
  deactivated_at: number | null;
  active_sessions: number;
}

const ACTOR = 'admin-token';
/** A Causeway user id or a localpart: printable ASCII without spaces, 1 to 255 characters. */
const ADMIN_USER_REF = /^[\x21-\x7E]{1,255}$/;

/**
 * Account actions of the admin API (and the account page's self-deactivation, as the identity
 * module's AccountDeactivator). Each writes its account change, the outbox event the homeserver
 * must see and an audit row in one transaction; ending sessions goes through the OAuth module's
 * SessionTerminator (tokens revoked at once, `devices.sync` queued).
 */
@Injectable()
export class AdminService extends AccountDeactivator {
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly sessions: SessionTerminator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  /**
   * A user by Causeway ID or by localpart. A reference of neither shape (a localpart is printable
   * ASCII, at most 255 characters, even as Synapse's historical user ids allowed it) is unknown
   * before any query.
   */
  async findUser(ref: string): Promise<UserEntity> {
    if (!ADMIN_USER_REF.test(ref)) throw notFound('user');
    const user =
      (isUlid(ref) ? await this.db.manager.findOne(UserEntity, { where: { id: ref } }) : null) ??
      (await this.db.manager.findOne(UserEntity, { where: { localpart: ref } }));
    if (!user) throw notFound('user');
    return user;
  }

  async view(user: UserEntity): Promise<AdminUserView> {
    const where = { user_id: user.id, finished_at: IsNull() };
    // OAuth sessions and legacy `/login` (compat) sessions alike.
    const active = (await this.db.manager.count(OAuth2SessionEntity, { where })) + (await this.db.manager.count(CompatSessionEntity, { where }));
    return { id: user.id, localpart: user.localpart, created_at: user.created_at, locked_at: user.locked_at, deactivated_at: user.deactivated_at, active_sessions: active };
  }

  private audit(em: EntityManager, action: string, target: string, details: Record<string, unknown>, now: number, actor = ACTOR) {
    return em.insert(AuditLogEntity, { id: ulid(now), actor, action, target, details: details as never, created_at: now });
  }

  /** AccountDeactivator (the account page: the user deactivates their own account). */
  async deactivate(userId: string, opts: { erase: boolean; actor: string }): Promise<void> {
    await this.deactivateUser(userId, opts.erase, opts.actor);
  }

  /**
   * Deactivation: introspection refuses the user's tokens from the commit on (deactivated users are
   * inactive), every session ends, and the homeserver gets `delete_user` (with `erase`). The account
   * row stays, so its localpart can never be registered again.
   */
  async deactivateUser(ref: string, erase: boolean, actor = ACTOR): Promise<AdminUserView & { sessions_ended: number }> {
    const user = await this.findUser(ref);
    const now = Date.now();
    await this.db.transaction(async (em) => {
      const changed = await em.update(UserEntity, { id: user.id, deactivated_at: IsNull() }, { deactivated_at: now });
      // Repeating the call repeats the (idempotent) homeserver call: useful after a dead letter too.
      await this.outbox.enqueue(em, { kind: 'user.deactivate', localpart: user.localpart, erase });
      await this.audit(em, 'user.deactivate', user.id, { localpart: user.localpart, erase, already: !changed.affected }, now, actor);
    });
    const ended = await this.sessions.endAllSessionsOfUser(user.id, 'deactivated');
    this.outbox.notify();
    this.logger.info({ user: user.id, erase, sessionsEnded: ended, actor }, 'user deactivated');
    return { ...(await this.view(await this.findUser(user.id))), sessions_ended: ended };
  }

  /** Locking: introspection refuses the user's tokens, sessions end, and the homeserver records `locked`. */
  async lock(ref: string): Promise<AdminUserView & { sessions_ended: number }> {
    const user = await this.findUser(ref);
    const now = Date.now();
    await this.db.transaction(async (em) => {
      await em.update(UserEntity, { id: user.id, locked_at: IsNull() }, { locked_at: now });
      await this.outbox.enqueue(em, { kind: 'user.provision', localpart: user.localpart, locked: true });
      await this.audit(em, 'user.lock', user.id, { localpart: user.localpart }, now);
    });
    const ended = await this.sessions.endAllSessionsOfUser(user.id, 'locked');
    this.outbox.notify();
    return { ...(await this.view(await this.findUser(user.id))), sessions_ended: ended };
  }

  async unlock(ref: string): Promise<AdminUserView> {
    const user = await this.findUser(ref);
    const now = Date.now();
    await this.db.transaction(async (em) => {
      await em.update(UserEntity, { id: user.id }, { locked_at: null });
      await this.outbox.enqueue(em, { kind: 'user.provision', localpart: user.localpart, locked: false });
      await this.audit(em, 'user.unlock', user.id, { localpart: user.localpart }, now);
    });
    this.outbox.notify();
    return this.view(await this.findUser(user.id));
  }

  async endAllSessions(ref: string): Promise<number> {
    const user = await this.findUser(ref);
    const ended = await this.sessions.endAllSessionsOfUser(user.id, 'admin');
    await this.db.transaction((em) => this.audit(em, 'user.sessions.end_all', user.id, { localpart: user.localpart, ended }, Date.now()));
    return ended;
  }

  /** One session by id: an OAuth session or a compat (legacy `/login`) session. */
  async endSession(sessionId: string): Promise<boolean> {
    if (!isUlid(sessionId)) throw notFound('session');
    const session = await this.db.manager.findOne(OAuth2SessionEntity, { where: { id: sessionId } });
    const compat = session ? null : await this.db.manager.findOne(CompatSessionEntity, { where: { id: sessionId } });
    if (!session && !compat) throw notFound('session');
    const wasActive = (session ?? compat)!.finished_at === null;
    if (session) await this.sessions.endOAuthSession(sessionId, 'admin');
    else await this.sessions.endCompatSession(sessionId, 'admin');
    const action = session ? 'oauth2_session.end_by_admin' : 'compat_session.end_by_admin';
    await this.db.transaction((em) => this.audit(em, action, sessionId, { user_id: (session ?? compat)!.user_id, was_active: wasActive }, Date.now()));
    return wasActive;
  }

  async auditEvent(action: string, target: string, details: Record<string, unknown>): Promise<void> {
    await this.db.transaction((em) => this.audit(em, action, target, details, Date.now()));
  }
}
