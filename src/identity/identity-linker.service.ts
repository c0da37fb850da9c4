import { Inject, Injectable } from '@nestjs/common';
import { Outbox } from '../events/outbox.js';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HomeserverAdapter, HomeserverError } from '../homeserver/homeserver.adapter.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';
import { Database } from '../storage/database.service.js';
import { PageError } from '../web/page-error.js';
import { msg, type Msg } from '../web/i18n/message.js';
import { assertCanSignIn } from './account-unavailable.error.js';
import type { User } from './identity.types.js';
import { checkLocalpart, isReservedForAdmins, LOCALPART_MESSAGES, localpartCandidate, type LocalpartCheck } from './localpart-policy.js';
import type { MappedIdentity } from './mapped-identity.js';
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
  /** New identity whose localpart the user picks on the registration page. */
  | { outcome: 'register'; suggestion?: string; /** The user confirms `suggestion` but may not change it (localpart action `require`). */ fixed: boolean };

export type RegisterOutcome = { ok: true; user: SignedInAccount } | { ok: false; error: Msg };

const TAKEN = msg('register.taken');

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
  ) {}

  checkLocalpart(localpart: string): LocalpartCheck {
    return checkLocalpart(localpart, { serverName: this.config.matrix.homeserver, reserved: this.config.policy.reserved_localparts });
  }

  /**
   * Finds (or provisions, or links) the account of an upstream identity. A provider with an `admin`
   * rule also decides, at each sign-in, whether the user has the admin right (UserLifecycle).
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

    const lp = mapped.localpart;
    if (lp.mode !== 'use') {
      const candidate = lp.value ? localpartCandidate(lp.value) : undefined;
      return { outcome: 'register', suggestion: candidate || undefined, fixed: lp.mode === 'confirm' };
    }
    if (!lp.value) {
      throw new PageError(403, 'error.title.sign_in_failed', msg('error.forced_localpart_missing', { provider: provider.name }), {
        reason: 'forced_localpart_missing',
      });
    }
    const check = this.checkLocalpart(lp.value);
    if (!check.ok) {
      throw new PageError(403, 'error.title.sign_in_failed', msg('error.forced_localpart_invalid', { provider: provider.name }), {
        reason: 'forced_localpart_invalid',
        problem: check.problem,
      });
    }
    const existing = await this.users.findByLocalpart(lp.value);
    if (existing) return this.onConflict(provider, mapped, existing);
    if (isReservedForAdmins(lp.value, this.config.policy.admin_localparts)) {
      throw new PageError(403, 'error.title.sign_in_failed', msg('error.forced_localpart_invalid', { provider: provider.name }), {
        reason: 'forced_localpart_invalid',
        problem: 'reserved',
      });
    }
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

  /** The registration form: checks the chosen localpart and creates the account and its link. */
  async register(provider: ProviderConfig, mapped: MappedIdentity, localpart: string, displayname?: string): Promise<RegisterOutcome> {
    if (mapped.localpart.mode === 'confirm' && localpart !== mapped.localpart.value) {
      return { ok: false, error: msg('register.set_by_organisation') };
    }
    if (mapped.localpart.mode === 'use') return { ok: false, error: msg('register.not_here') };
    const check = this.checkLocalpart(localpart);
    if (!check.ok) return { ok: false, error: check.message };
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
    const edited: MappedIdentity =
      mapped.displayname.action === 'suggest' && displayname !== undefined
        ? { ...mapped, displayname: { ...mapped.displayname, value: displayname.trim() || undefined } }
        : mapped;
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
    if (!user) throw new PageError(500, 'error.title.something_went_wrong', 'error.account_not_found', { reason: 'link_without_user' });
    assertCanSignIn(user);
    const sync = {
      displayName: this.syncedValue(mapped.displayname, user.displayName),
      email: this.syncedValue(mapped.email, user.email),
    };
    if (sync.displayName !== undefined || sync.email !== undefined) {
      const outbox = this.outbox;
      await this.db.transaction(async (em) => {
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

  /** A value to write on a later login (`sync: always`), or undefined to leave it alone. */
  private syncedValue(attr: MappedIdentity['displayname'], current: string | null): string | undefined {
    if (attr.sync !== 'always' || attr.action === 'ignore' || attr.value === undefined || attr.value === current) return undefined;
    return attr.value;
  }

  private async onConflict(provider: ProviderConfig, mapped: MappedIdentity, existing: User): Promise<LinkOutcome> {
    if (mapped.onConflict !== 'link') throw this.conflictError(provider, 'localpart_exists');
    assertCanSignIn(existing);
    try {
      await this.db.transaction((em) => this.links.create(em, { providerId: provider.id, subject: mapped.subject, userId: existing.id }));
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      return this.resolveAccount(provider, mapped);
    }
    return { outcome: 'signed_in', how: 'linked', user: { id: existing.id, localpart: existing.localpart } };
  }

  private conflictError(provider: ProviderConfig, reason: string): PageError {
    return new PageError(409, 'error.title.account_exists', msg('error.account_exists', { provider: provider.name }), { reason });
  }

  /** Local rows first; then the homeserver (it may have users Causeway never created). */
  private async availableOnHomeserver(localpart: string, failAsPage: boolean): Promise<boolean> {
    try {
      return await this.homeserver.isLocalpartAvailable(localpart);
    } catch (e) {
      if (failAsPage && e instanceof HomeserverError) {
        throw new PageError(503, 'error.title.temporarily_unavailable', 'error.homeserver_unreachable', {
          reason: 'homeserver_unavailable',
        });
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
