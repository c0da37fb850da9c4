import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { EventBus } from '../events/event-bus.service.js';
import { Outbox } from '../events/outbox.js';
import { HealthRegistry } from '../health/health.registry.js';
import { IdentityError } from '../identity/identity-errors.js';
import type { UpstreamLink, User } from '../identity/identity.types.js';
import { UpstreamLinksService } from '../identity/upstream-links.service.js';
import { UserLifecycle, type NewAccount } from '../identity/user-lifecycle.service.js';
import { UsersService } from '../identity/users.service.js';
import { ClientService } from '../oauth2/clients/client.service.js';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { PersonalTokens, type IssuedPersonalToken } from '../oauth2/personal/personal-tokens.service.js';
import { API_SCOPE } from '../oauth2/scopes/scope.js';
import { Database } from '../storage/database.service.js';
import { DeviceSessionRepository } from '../storage/repositories/device-session.repository.js';
import { AuditLogRepository, type Actor, type AuditFilter, type AuditRecord } from '../storage/repositories/audit-log.repository.js';
import type { Page, PageRequest } from '../storage/repositories/page.js';
import { SessionRepository, type SessionFilter, type SessionRow } from '../storage/repositories/session.repository.js';
import { UserRepository, type UserFilter } from '../storage/repositories/user.repository.js';
import { AdminError, notFound } from './http/admin-error.js';

/** The JSON the admin API (and `causeway manage --json`) shows for each resource. */
export interface UserView {
  id: string;
  localpart: string;
  matrix_id: string;
  display_name: string | null;
  created_at: number;
  locked_at: number | null;
  deactivated_at: number | null;
  can_request_admin: boolean;
  idp_admin: boolean;
  admin: boolean;
}
export interface LinkView {
  id: string;
  user_id: string;
  provider: string;
  subject: string;
  created_at: number;
}
export type SessionView = ReturnType<typeof sessionView>;
export type ListPage<T> = { data: T[]; next_after: string | null };

const pageOf = <A, B>(p: Page<A>, map: (a: A) => B): ListPage<B> => ({ data: p.data.map(map), next_after: p.nextAfter });

export const linkView = (l: UpstreamLink): LinkView => ({ id: l.id, user_id: l.userId, provider: l.providerId, subject: l.subject, created_at: l.createdAt });

export function sessionView(s: SessionRow) {
  return {
    id: s.id,
    kind: s.kind,
    user_id: s.userId,
    client_id: s.clientId,
    device_id: s.deviceId,
    scope: s.scope === null ? null : s.scope.split(' '),
    name: s.name,
    created_at: s.createdAt,
    last_active_at: s.lastActiveAt,
    last_active_ip: s.lastActiveIp,
    finished_at: s.finishedAt,
    finish_reason: s.finishReason,
    user_agent: s.userAgent,
    provider: s.providerId,
    active: s.finishedAt === null,
  };
}

export function auditView(r: AuditRecord) {
  return { id: r.id, actor: r.actor, action: r.action, target: r.target, user_id: r.userId, details: r.details, created_at: r.createdAt };
}

/**
 * What operators can do, for the admin API and `causeway manage` alike (the same methods, the same
 * JSON): each mutation goes through the owning module's service (identity's UserLifecycle and
 * UpstreamLinksService, OAuth's SessionTerminator and PersonalTokens, the event bus) and is
 * audited with the caller as actor.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly db: Database,
    private readonly lifecycle: UserLifecycle,
    private readonly users: UsersService,
    private readonly links: UpstreamLinksService,
    private readonly sessions: SessionTerminator,
    private readonly personal: PersonalTokens,
    private readonly clients: ClientService,
    private readonly bus: EventBus,
    private readonly outbox: Outbox,
    private readonly audit: AuditLogRepository,
    private readonly userRepo: UserRepository,
    private readonly sessionRepo: SessionRepository,
    private readonly deviceSessions: DeviceSessionRepository,
    private readonly health: HealthRegistry,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  // ---- users ----

  userView(u: User): UserView {
    return {
      id: u.id,
      localpart: u.localpart,
      matrix_id: `@${u.localpart}:${this.config.matrix.homeserver}`,
      display_name: u.displayName,
      created_at: u.createdAt,
      locked_at: u.lockedAt,
      deactivated_at: u.deactivatedAt,
      can_request_admin: u.canRequestAdmin,
      idp_admin: u.idpAdmin,
      admin: this.lifecycle.mayRequestAdmin(u),
    };
  }

  findUser(ref: string): Promise<User> {
    return this.lifecycle.get(ref);
  }

  async listUsers(f: Omit<UserFilter, 'adminLocalparts'>, page: PageRequest): Promise<ListPage<UserView>> {
    return pageOf(await this.userRepo.list({ ...f, adminLocalparts: this.config.policy.admin_localparts }, page), (u) => this.userView(u));
  }

  async showUser(ref: string) {
    const user = await this.findUser(ref);
    // OAuth (incl. personal) sessions and legacy `/login` (compat) sessions alike.
    const active = await this.deviceSessions.countLive(user.id);
    return {
      ...this.userView(user),
      emails: (await this.users.emails(user.id)).map((e) => e.email),
      links: (await this.links.forUser(user.id)).map(linkView),
      active_sessions: active,
    };
  }

  async createUser(a: NewAccount, actor: Actor): Promise<UserView> {
    return this.userView(await this.lifecycle.create(a, actor));
  }

  async lock(ref: string, actor: Actor) {
    const r = await this.lifecycle.lock((await this.findUser(ref)).id, actor);
    return { ...this.userView(r.user), sessions_ended: r.sessionsEnded };
  }

  async unlock(ref: string, actor: Actor): Promise<UserView> {
    return this.userView(await this.lifecycle.unlock((await this.findUser(ref)).id, actor));
  }

  async deactivate(ref: string, erase: boolean, actor: Actor) {
    const r = await this.lifecycle.deactivateUser((await this.findUser(ref)).id, erase, actor);
    return { ...this.userView(r.user), sessions_ended: r.sessionsEnded };
  }

  async reactivate(ref: string, actor: Actor): Promise<UserView> {
    return this.userView(await this.lifecycle.reactivate((await this.findUser(ref)).id, actor));
  }

  async setAdmin(ref: string, admin: boolean, actor: Actor) {
    const r = await this.lifecycle.setAdmin((await this.findUser(ref)).id, admin, actor);
    return { ...this.userView(r.user), sessions_ended: r.sessionsEnded };
  }

  async setDisplayName(ref: string, displayName: string | null, actor: Actor): Promise<UserView> {
    return this.userView(await this.lifecycle.setDisplayName((await this.findUser(ref)).id, displayName, actor));
  }

  async emails(ref: string) {
    const user = await this.findUser(ref);
    return { data: (await this.users.emails(user.id)).map((e) => ({ id: e.id, email: e.email, created_at: e.createdAt })) };
  }

  // ---- sessions and devices ----

  async listSessions(f: Omit<SessionFilter, 'browserTtlMs' | 'userId'> & { user?: string }, page: PageRequest): Promise<ListPage<SessionView>> {
    const userId = f.user ? (await this.findUser(f.user)).id : undefined;
    const rows = await this.sessionRepo.list({ ...f, userId, browserTtlMs: this.config.login.browser_session_ttl * 1000 }, page);
    return pageOf(rows, sessionView);
  }

  async getSession(id: string): Promise<SessionView> {
    const row = await this.sessionRepo.get(id, this.config.login.browser_session_ttl * 1000);
    if (!row) throw notFound('session');
    return sessionView(row);
  }

  /** One session of any kind; returns whether it was still live. */
  async endSession(id: string, actor: Actor): Promise<boolean> {
    const row = await this.sessionRepo.get(id, this.config.login.browser_session_ttl * 1000);
    if (!row) throw notFound('session');
    if (row.kind === 'compat') return this.sessions.endCompatSession(id, 'admin', actor);
    if (row.kind === 'browser') {
      const live = row.finishedAt === null;
      await this.sessions.endBrowserSession(id, 'admin', actor);
      await this.audit.recordNow({ actor, action: 'browser_session.end', target: id, userId: row.userId, details: { was_active: live } });
      return live;
    }
    return this.sessions.endOAuthSession(id, 'admin', actor);
  }

  async endAllSessions(ref: string, actor: Actor): Promise<number> {
    const user = await this.findUser(ref);
    const ended = await this.sessions.endAllSessionsOfUser(user.id, 'admin', actor);
    await this.audit.recordNow({ actor, action: 'user.sessions.end_all', target: user.id, userId: user.id, details: { localpart: user.localpart, ended } });
    return ended;
  }

  /** A device's name, here (the live session that holds it) and at the homeserver (through the outbox, after the user's earlier events). */
  async renameDevice(ref: string, deviceId: string, name: string, actor: Actor) {
    const user = await this.findUser(ref);
    const renamed = await this.db.transaction(async (em) => {
      const n = await this.deviceSessions.rename(em, user.id, deviceId, name);
      if (!n) return 0;
      await this.outbox.enqueue(em, { kind: 'device.rename', localpart: user.localpart, deviceId, displayName: name });
      await this.audit.record(em, { actor, action: 'device.rename', target: deviceId, userId: user.id, details: { localpart: user.localpart, device_id: deviceId, name } });
      return n;
    });
    if (!renamed) throw notFound('live device');
    this.outbox.notify();
    return { user_id: user.id, device_id: deviceId, name };
  }

  // ---- upstream links ----

  async userLinks(ref: string) {
    return { data: (await this.links.forUser((await this.findUser(ref)).id)).map(linkView) };
  }

  async addLink(ref: string, provider: string, subject: string, actor: Actor): Promise<LinkView> {
    return linkView(await this.links.add((await this.findUser(ref)).id, { providerId: provider, subject }, actor));
  }

  async removeLink(linkId: string, force: boolean, actor: Actor): Promise<LinkView> {
    return linkView(await this.links.remove(linkId, { force }, actor));
  }

  async replaceLinkSubject(linkId: string, subject: string, actor: Actor): Promise<LinkView> {
    return linkView(await this.links.replaceSubject(linkId, subject, actor));
  }

  /** Finds a link by provider and subject (the CLI names links that way). */
  async findLink(provider: string, subject: string): Promise<UpstreamLink> {
    const l = await this.links.find(provider, subject);
    if (!l) throw new IdentityError('not_found', 'upstream link not found');
    return l;
  }

  // ---- personal access tokens ----

  async issuePersonalToken(ref: string, r: { name: string; scope?: string[]; expiresInSeconds?: number | null }, actor: Actor) {
    const user = await this.findUser(ref);
    const expiresAt = r.expiresInSeconds ? Date.now() + r.expiresInSeconds * 1000 : null;
    const t: IssuedPersonalToken = await this.personal.issue({ userId: user.id, name: r.name, scope: r.scope?.length ? r.scope : [API_SCOPE.stable], expiresAt }, actor);
    return {
      id: t.sessionId,
      user_id: user.id,
      name: r.name,
      access_token: t.accessToken,
      scope: t.scope,
      device_id: t.deviceId,
      expires_at: t.expiresAt,
      device_ready: t.deviceReady,
    };
  }

  async revokePersonalToken(id: string, actor: Actor): Promise<boolean> {
    const row = await this.sessionRepo.get(id, 0);
    if (!row || row.kind !== 'personal') throw notFound('personal token');
    return this.sessions.endOAuthSession(id, 'revoked', actor);
  }

  // ---- OAuth clients ----

  private clientView(c: Awaited<ReturnType<ClientService['list']>>[number]) {
    return {
      client_id: c.client.clientId,
      origin: c.client.origin,
      client_name: typeof c.client.metadata.client_name === 'string' ? c.client.metadata.client_name : null,
      redirect_uris: c.client.redirectUris,
      grant_types: c.client.grantTypes,
      token_endpoint_auth_method: c.client.authMethod,
      metadata: c.client.metadata,
      created_at: c.createdAt,
      last_used_at: c.lastUsedAt,
    };
  }

  async listClients(page: PageRequest) {
    const rows = await this.clients.list({ after: page.after, limit: page.limit + 1 });
    const more = rows.length > page.limit;
    const data = rows.slice(0, page.limit).map((r) => this.clientView(r));
    return { data, next_after: more ? data[data.length - 1]!.client_id : null };
  }

  async getClient(clientId: string) {
    const client = await this.clients.find(clientId);
    const row = client && (await this.clients.row(clientId));
    if (!client || !row) throw notFound('client');
    return this.clientView({ client, ...row });
  }

  /** Deletes a dynamically registered client and ends its sessions. */
  async deleteClient(clientId: string, actor: Actor) {
    const client = await this.clients.find(clientId);
    if (!client) throw notFound('client');
    if (client.origin === 'static') throw new AdminError(409, 'CAUSEWAY_WRONG_STATE', 'a static client comes from the configuration: remove it there');
    await this.clients.deleteDynamic(clientId);
    const ended = await this.sessions.endSessionsOfClient(clientId, 'client_deleted', actor);
    await this.audit.recordNow({ actor, action: 'client.delete', target: clientId, details: { sessions_ended: ended } });
    return { deleted: true, sessions_ended: ended };
  }

  async endClientSessions(clientId: string, actor: Actor) {
    if (!(await this.clients.find(clientId))) throw notFound('client');
    const ended = await this.sessions.endSessionsOfClient(clientId, 'admin', actor);
    await this.audit.recordNow({ actor, action: 'client.sessions.end_all', target: clientId, details: { ended } });
    return { ended };
  }

  // ---- audit log ----

  async queryAudit(f: AuditFilter & { user?: string }, page: PageRequest, order: 'asc' | 'desc') {
    const userId = f.user ? (await this.findUser(f.user)).id : undefined;
    return pageOf(await this.audit.query({ ...f, userId }, page, order), auditView);
  }

  // ---- event bus and providers ----

  busStatus() {
    return this.bus.status();
  }

  async deadLetters(limit: number, after?: number) {
    const rows = await this.bus.deadLetters(limit, after);
    return {
      data: rows.map((r) => ({ id: r.id, user: r.userKey, kind: r.kind, payload: r.payload, created_at: r.createdAt, dead_at: r.deadAt, attempts: r.attempts, last_error: r.lastError })),
      next_after: rows.length === limit ? String(rows[rows.length - 1]!.id) : null,
    };
  }

  /** Replays the given dead letters (all of them, up to 1000, when `ids` is undefined). */
  async replay(ids: number[] | undefined, actor: Actor): Promise<number[]> {
    const chosen = ids ?? (await this.bus.deadLetters(1000)).map((r) => r.id);
    const replayed = await this.bus.replay(chosen);
    if (replayed.length) await this.audit.recordNow({ actor, action: 'events.dead_letter.replay', target: ids?.length === 1 ? String(ids[0]) : 'all', details: { ids: replayed } });
    return replayed;
  }

  /** The configured upstream providers and what their health checks say (no check: nothing remote to watch). */
  async providers() {
    const { components } = await this.health.run();
    return {
      data: this.config.upstream.providers.map((p) => {
        const checks = Object.entries(components).filter(([name]) => name === `upstream:${p.id}` || name === `saml_metadata:${p.id}`);
        const status = checks.some(([, c]) => c.status === 'down') ? 'down' : checks.some(([, c]) => c.status === 'degraded') ? 'degraded' : 'up';
        return { id: p.id, kind: p.kind, name: p.name, status, checks: Object.fromEntries(checks) };
      }),
    };
  }
}
