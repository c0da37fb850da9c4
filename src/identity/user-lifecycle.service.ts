import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { Outbox } from '../events/outbox.js';
import { HomeserverAdapter, HomeserverError } from '../homeserver/homeserver.adapter.js';
import { LOGGER } from '../http/logger.module.js';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { mayRequestAdmin } from '../oauth2/scopes/admin-right.js';
import { ADMIN_SCOPE, CAUSEWAY_ADMIN_SCOPE } from '../oauth2/scopes/scope.js';
import { Database, type Tx } from '../storage/database.service.js';
import { UserRepository } from '../storage/repositories/user.repository.js';
import { AuditLogRepository, type Actor } from '../storage/repositories/audit-log.repository.js';
import { AccountDeactivator } from './account-deactivator.js';
import { IdentityError } from './identity-errors.js';
import type { User } from './identity.types.js';
import { checkLocalpart } from '../matrix/localpart-policy.js';
import { isUniqueViolation } from './unique-violation.js';
import { UpstreamLinksService } from './upstream-links.service.js';
import { UsersService } from './users.service.js';

export interface NewAccount {
  localpart: string;
  displayName?: string | null;
  emails?: readonly string[];
  /** Upstream identities the user will sign in with (the first sign-in lands on this account). */
  links?: readonly { providerId: string; subject: string }[];
  /** May request `urn:synapse:admin:*`. */
  admin?: boolean;
  /** Create it even if the homeserver already has this localpart (e.g. a Synapse user being migrated) or cannot be asked. */
  skipHomeserverCheck?: boolean;
}

/** A change that also ended sessions. */
export interface WithEndedSessions {
  user: User;
  sessionsEnded: number;
}

/**
 * An account's life, for operators (admin API, `causeway manage`), the account page and the
 * sign-in flow: create (pre-provision), lock, unlock, deactivate, reactivate, admin right, display
 * name. Each change commits with the outbox event the homeserver must see and an audit row naming
 * the actor; sessions that must end then end through SessionTerminator (tokens refused at once,
 * devices removed at the homeserver).
 */
@Injectable()
export class UserLifecycle extends AccountDeactivator {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly repo: UserRepository,
    private readonly links: UpstreamLinksService,
    private readonly outbox: Outbox,
    private readonly audit: AuditLogRepository,
    private readonly sessions: SessionTerminator,
    private readonly homeserver: HomeserverAdapter,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  /** A user by Causeway id or by localpart. */
  async get(ref: string): Promise<User> {
    const user = (await this.users.findById(ref)) ?? (await this.users.findByLocalpart(ref));
    if (!user) throw new IdentityError('not_found', 'user not found');
    return user;
  }

  /** Whether the user may be granted `urn:synapse:admin:*` (see oauth2/scopes/admin-right.ts). */
  mayRequestAdmin(user: User): boolean {
    return mayRequestAdmin(user, this.config.policy.admin_localparts);
  }

  /**
   * Pre-provisioning: the account exists before its owner ever signs in; with `links`, their first
   * sign-in through that provider lands on it. The homeserver gets `provision_user` through the outbox.
   */
  async create(a: NewAccount, actor: Actor): Promise<User> {
    const check = checkLocalpart(a.localpart, { serverName: this.config.matrix.homeserver, reserved: this.config.policy.reserved_localparts });
    if (!check.ok) throw new IdentityError('invalid', `localpart: ${check.message}`);
    for (const l of a.links ?? []) this.links.assertProvider(l.providerId);
    if (await this.users.findByLocalpart(a.localpart)) throw new IdentityError('conflict', `the localpart "${a.localpart}" is taken`);
    if (!a.skipHomeserverCheck) {
      let free: boolean;
      try {
        free = await this.homeserver.isLocalpartAvailable(a.localpart);
      } catch (e) {
        if (!(e instanceof HomeserverError)) throw e;
        throw new IdentityError('homeserver_unavailable', 'the homeserver could not be asked whether the localpart is free (skip_homeserver_check creates the account anyway)');
      }
      if (!free) throw new IdentityError('conflict', `the homeserver already has a user "${a.localpart}" (skip_homeserver_check to take it over, e.g. when migrating)`);
    }
    const emails = [...new Set((a.emails ?? []).map((e) => e.toLowerCase()))];
    try {
      const user = await this.db.transaction(async (em) => {
        const created = await this.users.create(em, { localpart: a.localpart, displayName: a.displayName ?? null, emails, canRequestAdmin: !!a.admin });
        for (const l of a.links ?? []) await this.links.create(em, { providerId: l.providerId, subject: l.subject, userId: created.id });
        await this.outbox.enqueue(em, {
          kind: 'user.provision',
          localpart: created.localpart,
          ...(created.displayName !== null ? { displayname: created.displayName } : {}),
          ...(emails.length ? { emails } : {}),
        });
        await this.audit.record(em, {
          actor,
          action: 'user.create',
          target: created.id,
          userId: created.id,
          details: { localpart: created.localpart, emails, links: (a.links ?? []).map((l) => ({ provider_id: l.providerId, subject: l.subject })), admin: !!a.admin },
        });
        return created;
      });
      this.outbox.notify();
      return user;
    } catch (e) {
      if (isUniqueViolation(e)) throw new IdentityError('conflict', 'the localpart or one of the upstream identities is already taken');
      throw e;
    }
  }

  /** Locking: introspection refuses the user's tokens, every session ends, the homeserver records `locked`. */
  async lock(userId: string, actor: Actor): Promise<WithEndedSessions> {
    const user = await this.change(userId, actor, 'user.lock', async (em, u) => {
      await this.repo.update(em, u.id, { lockedAt: Date.now() }, 'unlocked');
      await this.outbox.enqueue(em, { kind: 'user.provision', localpart: u.localpart, locked: true });
    });
    const sessionsEnded = await this.sessions.endAllSessionsOfUser(user.id, 'locked', actor);
    return { user: await this.get(user.id), sessionsEnded };
  }

  async unlock(userId: string, actor: Actor): Promise<User> {
    await this.change(userId, actor, 'user.unlock', async (em, u) => {
      await this.repo.update(em, u.id, { lockedAt: null });
      await this.outbox.enqueue(em, { kind: 'user.provision', localpart: u.localpart, locked: false });
    });
    return this.get(userId);
  }

  /**
   * Deactivation: introspection refuses the user's tokens from the commit on, every session ends,
   * and the homeserver gets `delete_user` (with `erase`). The row stays, so the localpart can never
   * be registered again; `reactivate` undoes it. Repeating it repeats the (idempotent) homeserver call.
   */
  async deactivateUser(userId: string, erase: boolean, actor: Actor): Promise<WithEndedSessions> {
    const user = await this.change(userId, actor, 'user.deactivate', async (em, u) => {
      const changed = await this.repo.update(em, u.id, { deactivatedAt: Date.now() }, 'active');
      await this.outbox.enqueue(em, { kind: 'user.deactivate', localpart: u.localpart, erase });
      return { erase, already: !changed };
    });
    const sessionsEnded = await this.sessions.endAllSessionsOfUser(user.id, 'deactivated', actor);
    this.logger.info({ user: user.id, erase, sessionsEnded, actor }, 'user deactivated');
    return { user: await this.get(user.id), sessionsEnded };
  }

  /** AccountDeactivator: the account page (the user deactivates their own account). */
  async deactivate(userId: string, opts: { erase: boolean; actor: string }): Promise<void> {
    await this.deactivateUser(userId, opts.erase, opts.actor);
  }

  /** The account can sign in again; the homeserver gets `reactivate_user` (after the user's earlier events). */
  async reactivate(userId: string, actor: Actor): Promise<User> {
    await this.change(userId, actor, 'user.reactivate', async (em, u) => {
      await this.repo.update(em, u.id, { deactivatedAt: null });
      await this.outbox.enqueue(em, { kind: 'user.reactivate', localpart: u.localpart });
      return { was_deactivated: u.deactivatedAt !== null };
    });
    return this.get(userId);
  }

  /**
   * The per-user admin flag. Taking it away (when no other rule keeps the right) ends the user's
   * sessions holding `urn:synapse:admin:*` or `urn:causeway:admin`.
   */
  async setAdmin(userId: string, admin: boolean, actor: Actor): Promise<WithEndedSessions> {
    await this.change(userId, actor, admin ? 'user.admin.grant' : 'user.admin.revoke', async (em, u) => {
      await this.repo.update(em, u.id, { canRequestAdmin: admin });
    });
    return this.afterAdminChange(userId, actor);
  }

  /**
   * At each sign-in through a provider with an `admin` rule: whether the IdP says this user is an
   * admin (e.g. in the group). A change is audited (actor `upstream:<provider>`); a lost right ends
   * the sessions holding `urn:synapse:admin:*`.
   */
  async applyIdpAdmin(userId: string, admin: boolean, providerId: string): Promise<WithEndedSessions | undefined> {
    const before = await this.users.findById(userId);
    if (!before || before.idpAdmin === admin) return undefined;
    const actor = `upstream:${providerId}`;
    await this.change(userId, actor, admin ? 'user.idp_admin.grant' : 'user.idp_admin.revoke', async (em, u) => {
      await this.repo.update(em, u.id, { idpAdmin: admin });
    });
    return this.afterAdminChange(userId, actor);
  }

  private async afterAdminChange(userId: string, actor: Actor): Promise<WithEndedSessions> {
    const user = await this.get(userId);
    const sessionsEnded = this.mayRequestAdmin(user) ? 0 : await this.sessions.endSessionsWithScope(userId, [ADMIN_SCOPE, CAUSEWAY_ADMIN_SCOPE], 'admin_right_lost', actor);
    return { user, sessionsEnded };
  }

  /** The display name, here and (through the outbox) at the homeserver; null clears it. */
  async setDisplayName(userId: string, displayName: string | null, actor: Actor): Promise<User> {
    await this.change(userId, actor, 'user.displayname.set', async (em, u) => {
      await this.users.updateProfile(em, u.id, { displayName });
      await this.outbox.enqueue(em, { kind: 'user.displayname', localpart: u.localpart, displayname: displayName });
      return { displayname: displayName };
    });
    return this.get(userId);
  }

  /** One transaction: the change, its outbox rows and the audit row (details: the localpart plus what `work` returns). */
  private async change(ref: string, actor: Actor, action: string, work: (em: Tx, user: User) => Promise<Record<string, unknown> | void>): Promise<User> {
    const user = await this.get(ref);
    await this.db.transaction(async (em) => {
      const details = (await work(em, user)) ?? {};
      await this.audit.record(em, { actor, action, target: user.id, userId: user.id, details: { localpart: user.localpart, ...details } });
    });
    this.outbox.notify();
    return user;
  }
}
