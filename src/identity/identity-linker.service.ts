import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Outbox } from '../events/outbox.js';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HomeserverAdapter, HomeserverError } from '../homeserver/homeserver.adapter.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';
import { Database } from '../storage/database.service.js';
import { msg, type Msg } from '../web/i18n/message.js';
import { assertCanSignIn } from './account-unavailable.error.js';
import type { User } from './identity.types.js';
import { checkLocalpart, isReservedForAdmins, LOCALPART_MESSAGES, localpartCandidate, type LocalpartCheck } from '../matrix/localpart-policy.js';
import type { MappedIdentity } from '../upstream/mapping/mapped-identity.js';
import { RegistrationRules } from './registration-rules.js';
import { BrowserSessionsService } from './browser-sessions.service.js';
import { AuditLogRepository } from '../storage/repositories/audit-log.repository.js';
import { Clock, SystemClock } from '../clock/clock.js';
import { SignInRefusedError } from './identity-errors.js';
import { isUniqueViolation } from './unique-violation.js';
import { UpstreamLinksService } from './upstream-links.service.js';
import { UsersService } from './users.service.js';
import { UserLifecycle } from './user-lifecycle.service.js';

export interface SignedInAccount {
  id: string;
  localpart: string;
}

/** Result of looking up an upstream identity. */
export type LinkOutcome =
  /** Known identity (later logins), a forced localpart just provisioned, or attached to an existing account (`on_conflict: link`). */
  | { outcome: 'signed_in'; how: 'existing' | 'created' | 'linked'; user: SignedInAccount }
  /** `on_conflict: confirm`: the username belongs to `user`; the person first signs in with one of `providerIds` (linked to it). */
  | { outcome: 'confirm'; user: SignedInAccount; providerIds: string[] }
  /** New identity whose localpart the user picks on the registration page. */
  | { outcome: 'register'; suggestion?: string; /** The user confirms `suggestion` but may not change it (localpart action `require`). */ fixed: boolean };

export type RegisterOutcome = { ok: true; user: SignedInAccount } | { ok: false; error: Msg };

const TAKEN = msg('register.taken');

/** A provider that may not create an account for this identity (`registration: existing_only | disabled`). */
function registrationRefused(provider: ProviderConfig, mode: 'existing_only' | 'disabled'): SignInRefusedError {
  return new SignInRefusedError(`registration_${mode}`, { provider: provider.name }, { reason: `registration_${mode}` });
}

/**
 * Links upstream identities to users: the first login provisions (or asks for a localpart), later
 * logins find the link. Account creation happens here in the database; the homeserver learns of the
 * user when the authorization completes (AuthorizationCompleter.complete provisions it).
 */
@Injectable()
export class IdentityLinker {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly links: UpstreamLinksService,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly homeserver: HomeserverAdapter,
    private readonly outbox: Outbox,
    private readonly lifecycle: UserLifecycle,
    private readonly audit: AuditLogRepository,
    private readonly browserSessions: BrowserSessionsService,
    private readonly clock: Clock = new SystemClock(),
  ) {
    this.rules = new RegistrationRules(config.policy);
  }

  private readonly rules: RegistrationRules;

  checkLocalpart(localpart: string): LocalpartCheck {
    return checkLocalpart(localpart, { serverName: this.config.matrix.homeserver, reserved: this.config.policy.reserved_localparts });
  }

  /**
   * Finds (or provisions, or links) the account of an upstream identity. A provider with an `admin`
   * rule also decides, at each sign-in, whether the user has the admin right (UserLifecycle).
   * Then: its linked account, or an existing account it may attach to (`on_conflict`), or a new
   * account (`registration: open` only; forced localparts are created at once, the others go to the
   * registration page). `registration: disabled` admits linked identities only; `existing_only`
   * also lets `on_conflict` attach identities to existing accounts.
   */
  async resolve(provider: ProviderConfig, mapped: MappedIdentity): Promise<LinkOutcome> {
    const outcome = await this.resolveAccount(provider, mapped);
    if (outcome.outcome === 'signed_in') await this.applyAdminRule(mapped, outcome.user.id);
    return outcome;
  }

  private async applyAdminRule(mapped: MappedIdentity, userId: string): Promise<void> {
    if (mapped.admin !== undefined) await this.lifecycle.applyIdpAdmin(userId, mapped.admin, mapped.providerId);
  }

  private async resolveAccount(provider: ProviderConfig, mapped: MappedIdentity): Promise<LinkOutcome> {
    const link = await this.links.find(provider.id, mapped.subject);
    if (link) return { outcome: 'signed_in', how: 'existing', user: await this.signInExisting(link.userId, mapped) };
    if (provider.registration === 'disabled') throw registrationRefused(provider, 'disabled');

    const lp = mapped.localpart;
    // A username the IdP vouches for (force, require) that already has an account: on_conflict decides.
    if (lp.mode !== 'ask' && lp.value) {
      const existing = await this.users.findByLocalpart(lp.value);
      if (existing) return this.onConflict(provider, mapped, existing);
    }
    if (provider.registration === 'existing_only') throw registrationRefused(provider, 'existing_only');
    this.assertEmailAllowed(provider, mapped);

    if (lp.mode !== 'use') {
      // A username the person only confirms must pass the rules now: the page could not change it.
      if (lp.mode === 'confirm' && lp.value) this.assertLocalpartAllowed(provider, lp.value);
      const candidate = lp.value ? localpartCandidate(lp.value) : undefined;
      return { outcome: 'register', suggestion: candidate || undefined, fixed: lp.mode === 'confirm' };
    }
    if (!lp.value) {
      throw new SignInRefusedError('forced_localpart_missing', { provider: provider.name }, { reason: 'forced_localpart_missing' });
    }
    const check = this.checkLocalpart(lp.value);
    if (!check.ok) {
      throw new SignInRefusedError('forced_localpart_invalid', { provider: provider.name }, { reason: 'forced_localpart_invalid', problem: check.problem });
    }
    if (isReservedForAdmins(lp.value, this.config.policy.admin_localparts)) {
      throw new SignInRefusedError('forced_localpart_invalid', { provider: provider.name }, { reason: 'forced_localpart_invalid', problem: 'reserved' });
    }
    this.assertLocalpartAllowed(provider, lp.value);
    if (!(await this.availableOnHomeserver(lp.value, true))) {
      throw this.conflictError(provider, 'taken_on_homeserver');
    }
    const created = await this.createAccount(provider, mapped, lp.value);
    if (created === 'localpart_taken') {
      const winner = await this.users.findByLocalpart(lp.value);
      if (winner) return this.onConflict(provider, mapped, winner);
      throw this.conflictError(provider, 'race');
    }
    if (created === 'already_linked') return this.resolveAccount(provider, mapped);
    return { outcome: 'signed_in', how: 'created', user: created };
  }

  /** `policy.localpart_allow` / `localpart_deny` for a username the person cannot change: a page naming the rule. */
  private assertLocalpartAllowed(provider: ProviderConfig, localpart: string): void {
    const rule = this.rules.checkLocalpart(localpart);
    if (!rule.ok) {
      throw new SignInRefusedError('localpart_rule', { provider: provider.name, rule: rule.rule }, { reason: 'localpart_rule', rule: rule.rule });
    }
  }

  /** `policy.email_domains`: a new account needs an address on an allowed domain (the page names the rule, not the address). */
  private assertEmailAllowed(provider: ProviderConfig, mapped: MappedIdentity): void {
    const email = mapped.email.action === 'ignore' ? undefined : mapped.email.value;
    const rule = this.rules.checkEmail(email);
    if (!rule.ok) {
      throw new SignInRefusedError('email_domain_rule', { provider: provider.name, rule: rule.rule }, { reason: 'email_domain_rule', rule: rule.rule });
    }
  }

  /** The registration form: checks the chosen localpart and creates the account and its link. */
  async register(provider: ProviderConfig, mapped: MappedIdentity, localpart: string, displayname?: string): Promise<RegisterOutcome> {
    if (mapped.localpart.mode === 'confirm' && localpart !== mapped.localpart.value) {
      return { ok: false, error: msg('register.set_by_organisation') };
    }
    if (mapped.localpart.mode === 'use' || provider.registration !== 'open') return { ok: false, error: msg('register.not_here') };
    this.assertEmailAllowed(provider, mapped);
    const check = this.checkLocalpart(localpart);
    if (!check.ok) return { ok: false, error: check.message };
    const rule = this.rules.checkLocalpart(localpart);
    if (!rule.ok) return { ok: false, error: msg('register.rule', { rule: rule.rule }) };
    if (await this.users.findByLocalpart(localpart)) return { ok: false, error: TAKEN };
    if (isReservedForAdmins(localpart, this.config.policy.admin_localparts)) return { ok: false, error: msg(LOCALPART_MESSAGES.reserved) };
    let available: boolean;
    try {
      available = await this.availableOnHomeserver(localpart, false);
    } catch {
      return { ok: false, error: msg('register.check_failed') };
    }
    if (!available) return { ok: false, error: TAKEN };
    // A display name the user edited on the form (action `suggest`) replaces the imported one.
    const edited: MappedIdentity = mapped.displayname.action === 'suggest' && displayname !== undefined ? { ...mapped, displayname: { ...mapped.displayname, value: displayname.trim() || undefined } } : mapped;
    const result = await this.registerAccount(provider, mapped, edited, localpart);
    if (result.ok) await this.applyAdminRule(mapped, result.user.id);
    return result;
  }

  private async registerAccount(provider: ProviderConfig, mapped: MappedIdentity, edited: MappedIdentity, localpart: string): Promise<RegisterOutcome> {
    const created = await this.createAccount(provider, edited, localpart);
    if (created === 'localpart_taken') return { ok: false, error: TAKEN };
    if (created === 'already_linked') {
      // The same identity finished a sign-up in another tab: sign in to that account.
      const link = await this.links.find(provider.id, mapped.subject);
      if (!link) return { ok: false, error: TAKEN };
      return { ok: true, user: await this.signInExisting(link.userId, mapped) };
    }
    return { ok: true, user: created };
  }

  private async signInExisting(userId: string, mapped: MappedIdentity): Promise<SignedInAccount> {
    const user = await this.users.findById(userId);
    if (!user) throw new SignInRefusedError('account_not_found', {}, { reason: 'link_without_user' });
    assertCanSignIn(user);
    const sync = {
      displayName: this.syncedValue(mapped.displayname, user.displayName),
      email: this.syncedValue(mapped.email, user.email),
    };
    // `sync: always`: the avatar the IdP gives now is uploaded again (the homeserver keeps no trace of where one came from).
    const avatar = mapped.avatar?.sync === 'always' ? mapped.avatar : undefined;
    if (avatar && sync.displayName === undefined && sync.email === undefined) {
      await this.db.transaction((em) => this.enqueueAvatar(em, user.localpart, mapped));
      this.outbox.notify();
    }
    if (sync.displayName !== undefined || sync.email !== undefined) {
      const outbox = this.outbox;
      await this.db.transaction(async (em) => {
        if (avatar) await this.enqueueAvatar(em, user.localpart, mapped);
        await this.users.updateProfile(em, user.id, sync);
        // The homeserver's copy of the profile follows in the same transaction (delivered by the event bus).
        await outbox.enqueue(em, {
          kind: 'user.provision',
          localpart: user.localpart,
          ...(sync.displayName !== undefined ? { displayname: sync.displayName } : {}),
          ...(sync.email !== undefined ? { emails: sync.email ? [sync.email] : [] } : {}),
        });
      });
      outbox.notify();
    }
    return { id: user.id, localpart: user.localpart };
  }

  /** The IdP's avatar, for the event bus to fetch, check, upload as the user and set (never blocking the sign-in). */
  private async enqueueAvatar(em: EntityManager, localpart: string, mapped: MappedIdentity): Promise<void> {
    const a = mapped.avatar;
    if (!a) return;
    await this.outbox.enqueue(em, { kind: 'user.avatar', localpart, source: a.value, maxBytes: a.maxBytes, timeoutMs: a.timeoutMs, providerId: mapped.providerId });
  }

  /** A value to write on a later login (`sync: always`), or undefined to leave it alone. */
  private syncedValue(attr: MappedIdentity['displayname'], current: string | null): string | undefined {
    if (attr.sync !== 'always' || attr.action === 'ignore' || attr.value === undefined || attr.value === current) return undefined;
    return attr.value;
  }

  /**
   * A new identity whose username already has an account (provider `on_conflict`, MAS's meanings):
   * `fail` refuses; `link` attaches it; `set` attaches it only if the account has no link of this
   * provider yet; `replace` moves the account's link of this provider to it (the IdP re-keyed its
   * users); `confirm` asks the person to prove they own the account first (`confirm` outcome).
   */
  private async onConflict(provider: ProviderConfig, mapped: MappedIdentity, existing: User): Promise<LinkOutcome> {
    const mode = mapped.onConflict;
    if (mode === 'fail') throw this.conflictError(provider, 'localpart_exists');
    assertCanSignIn(existing);
    const user = { id: existing.id, localpart: existing.localpart };
    if (mode === 'confirm') {
      const configured = new Set(this.config.upstream.providers.map((p) => p.id));
      const providerIds = [...new Set((await this.links.forUser(existing.id)).map((l) => l.providerId))].filter((p) => configured.has(p));
      if (!providerIds.length) throw this.conflictError(provider, 'no_method_to_confirm');
      return { outcome: 'confirm', user, providerIds };
    }
    try {
      await this.db.transaction(async (em) => {
        const actor = `upstream:${provider.id}`;
        if (mode === 'set' && (await this.links.forUser(existing.id, em)).some((l) => l.providerId === provider.id)) {
          throw this.conflictError(provider, 'provider_already_linked');
        }
        if (mode === 'replace') {
          for (const old of await this.links.removeForProvider(em, existing.id, provider.id)) {
            await this.audit.record(em, { actor, action: 'upstream_link.remove', target: old.id, userId: existing.id, details: { provider_id: old.providerId, subject: old.subject, via: 'on_conflict:replace' } });
          }
        }
        const link = await this.links.create(em, { providerId: provider.id, subject: mapped.subject, userId: existing.id }, this.clock.now());
        await this.audit.record(em, { actor, action: 'upstream_link.add', target: link.id, userId: existing.id, details: { provider_id: provider.id, subject: mapped.subject, via: `on_conflict:${mode}` } });
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return this.resolveAccount(provider, mapped);
    }
    return { outcome: 'signed_in', how: 'linked', user };
  }

  /**
   * `on_conflict: confirm`, second half: the person signed in again with `reauth`, a method already
   * linked to the account `userId` (Keycloak's first-broker-login re-authentication). Only then is
   * the pending identity linked, and the person signed in to that account.
   */
  async confirmLink(pending: { provider: ProviderConfig; mapped: MappedIdentity }, reauth: { provider: ProviderConfig; mapped: MappedIdentity }, userId: string): Promise<SignedInAccount> {
    const proof = await this.links.find(reauth.provider.id, reauth.mapped.subject);
    if (!proof || proof.userId !== userId) {
      throw new SignInRefusedError('link_confirmation_mismatch', { provider: reauth.provider.name }, { reason: 'link_confirmation_mismatch' });
    }
    const existing = await this.users.findById(userId);
    if (!existing) throw new SignInRefusedError('account_not_found', {}, { reason: 'link_without_user' });
    assertCanSignIn(existing);
    try {
      await this.db.transaction(async (em) => {
        const link = await this.links.create(em, { providerId: pending.provider.id, subject: pending.mapped.subject, userId }, this.clock.now());
        await this.audit.record(em, {
          actor: `user:${userId}`,
          action: 'upstream_link.add',
          target: link.id,
          userId,
          details: { provider_id: pending.provider.id, subject: pending.mapped.subject, via: 'on_conflict:confirm', confirmed_with: reauth.provider.id },
        });
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      // Linked meanwhile (another tab): fine if to this account.
      const now = await this.links.find(pending.provider.id, pending.mapped.subject);
      if (now?.userId !== userId) throw this.conflictError(pending.provider, 'race');
    }
    return this.signInExisting(userId, pending.mapped);
  }

  /**
   * "Add a sign-in method" on the account page: the person, signed in as `userId` in browser
   * session `browserSessionId`, signed in afresh with another provider; that identity is linked
   * to the account unless it belongs to another one.
   */
  async attachToAccount(provider: ProviderConfig, mapped: MappedIdentity, userId: string, browserSessionId: string): Promise<'linked' | 'already_linked'> {
    if (provider.registration === 'disabled') {
      throw new SignInRefusedError('method_not_addable', { provider: provider.name }, { reason: 'registration_disabled' });
    }
    const session = await this.browserSessions.findActive(browserSessionId);
    if (!session || session.userId !== userId) {
      throw new SignInRefusedError('link_session_gone', {}, { reason: 'link_session_gone' });
    }
    const owner = await this.links.find(provider.id, mapped.subject);
    if (owner) {
      if (owner.userId === userId) return 'already_linked';
      throw new SignInRefusedError('identity_linked_elsewhere', { provider: provider.name }, { reason: 'identity_linked_to_other_account' });
    }
    try {
      await this.db.transaction(async (em) => {
        const link = await this.links.create(em, { providerId: provider.id, subject: mapped.subject, userId }, this.clock.now());
        await this.audit.record(em, { actor: `user:${userId}`, action: 'upstream_link.add', target: link.id, userId, details: { provider_id: provider.id, subject: mapped.subject, via: 'account_page' } });
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return this.attachToAccount(provider, mapped, userId, browserSessionId);
    }
    return 'linked';
  }

  private conflictError(provider: ProviderConfig, reason: string): SignInRefusedError {
    return new SignInRefusedError('account_exists', { provider: provider.name }, { reason });
  }

  /** Local rows first; then the homeserver (it may have users Causeway never created). */
  private async availableOnHomeserver(localpart: string, failAsPage: boolean): Promise<boolean> {
    try {
      return await this.homeserver.isLocalpartAvailable(localpart);
    } catch (e) {
      if (failAsPage && e instanceof HomeserverError) {
        throw new SignInRefusedError('homeserver_unreachable', {}, { reason: 'homeserver_unavailable' });
      }
      throw e;
    }
  }

  private async createAccount(provider: ProviderConfig, mapped: MappedIdentity, localpart: string): Promise<SignedInAccount | 'localpart_taken' | 'already_linked'> {
    const initial = (a: MappedIdentity['displayname']) => (a.action === 'ignore' ? null : (a.value ?? null));
    const outbox = this.outbox;
    try {
      const created = await this.db.transaction(async (em) => {
        if (await this.links.find(provider.id, mapped.subject, em)) return 'already_linked' as const;
        const user = await this.users.create(em, { localpart, displayName: initial(mapped.displayname), email: initial(mapped.email) });
        await this.links.create(em, { providerId: provider.id, subject: mapped.subject, userId: user.id });
        // The homeserver learns the new user and its profile with the same commit.
        await outbox.enqueue(em, {
          kind: 'user.provision',
          localpart: user.localpart,
          ...(user.displayName !== null ? { displayname: user.displayName } : {}),
          ...(user.email !== null ? { emails: [user.email] } : {}),
        });
        // After the provision row: delivery is in order per user, so the account exists when its avatar is uploaded as it.
        await this.enqueueAvatar(em, user.localpart, mapped);
        return { id: user.id, localpart: user.localpart };
      });
      if (created !== 'already_linked') outbox.notify();
      return created;
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return (await this.links.find(provider.id, mapped.subject)) ? 'already_linked' : 'localpart_taken';
    }
  }
}
