import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { Database, type Tx } from '../storage/database.service.js';
import { AuditLogRepository, type Actor } from '../storage/repositories/audit-log.repository.js';
import { UpstreamLinkRepository } from '../storage/repositories/upstream-link.repository.js';
import { IdentityError } from './identity-errors.js';
import type { UpstreamLink } from './identity.types.js';
import { isUniqueViolation } from './unique-violation.js';

/**
 * Upstream identities (provider + subject, unique) attached to users: found and created by the
 * login flow, and managed by operators (add, remove, re-key) with an audit row each.
 */
@Injectable()
export class UpstreamLinksService {
  constructor(
    private readonly db: Database,
    private readonly repo: UpstreamLinkRepository,
    private readonly audit: AuditLogRepository,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  find(providerId: string, subject: string, tx?: Tx): Promise<UpstreamLink | undefined> {
    return this.repo.find(providerId, subject, tx);
  }

  findById(id: string, tx?: Tx): Promise<UpstreamLink | undefined> {
    return this.repo.findById(id, tx);
  }

  forUser(userId: string, tx?: Tx): Promise<UpstreamLink[]> {
    return this.repo.forUser(userId, tx);
  }

  /** Inside the caller's transaction; a second link for the same provider+subject fails on the unique index. */
  create(tx: Tx, l: { providerId: string; subject: string; userId: string }, now = Date.now()): Promise<UpstreamLink> {
    return this.repo.insert(tx, l, now);
  }

  /**
   * Inside the caller's transaction: removes the user's links of one provider and returns them
   * (the sign-in's `on_conflict: replace`, when the IdP re-keyed its users). The caller audits.
   */
  removeForProvider(tx: Tx, userId: string, providerId: string): Promise<UpstreamLink[]> {
    return this.repo.removeForProvider(tx, userId, providerId);
  }

  /** A provider id from the configuration (links to a provider that does not exist could never be used). */
  assertProvider(providerId: string): void {
    if (!this.config.upstream.providers.some((p) => p.id === providerId)) throw new IdentityError('invalid', `no upstream provider "${providerId}" is configured`);
  }

  /** Operator: attaches an upstream identity to a user (the next sign-in with it lands on this user). */
  async add(userId: string, l: { providerId: string; subject: string }, actor: Actor): Promise<UpstreamLink> {
    this.assertProvider(l.providerId);
    assertSubject(l.subject);
    try {
      return await this.db.transaction(async (em) => {
        const link = await this.create(em, { ...l, userId });
        await this.audit.record(em, { actor, action: 'upstream_link.add', target: link.id, userId, details: { provider_id: l.providerId, subject: l.subject } });
        return link;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new IdentityError('conflict', `this ${l.providerId} identity is already linked to a user`);
      throw e;
    }
  }

  /**
   * Operator: detaches an upstream identity. Links are the only way to sign in to Causeway, so the
   * user's last link stays unless `force` (the account then cannot sign in until a link is added).
   */
  async remove(linkId: string, opts: { force?: boolean }, actor: Actor): Promise<UpstreamLink> {
    return this.db.transaction(async (em) => {
      const link = await this.findById(linkId, em);
      if (!link) throw new IdentityError('not_found', 'upstream link not found');
      const others = (await this.forUser(link.userId, em)).filter((l) => l.id !== link.id);
      if (!others.length && !opts.force) {
        throw new IdentityError('last_sign_in_method', "this is the user's last upstream link (their only way to sign in); pass force to remove it anyway");
      }
      await this.repo.remove(em, link.id);
      await this.audit.record(em, {
        actor,
        action: 'upstream_link.remove',
        target: link.id,
        userId: link.userId,
        details: { provider_id: link.providerId, subject: link.subject, forced: !others.length },
      });
      return link;
    });
  }

  /** Operator: the IdP re-keyed its users (e.g. ADFS → Entra ID): the same link, a new subject. */
  async replaceSubject(linkId: string, subject: string, actor: Actor): Promise<UpstreamLink> {
    assertSubject(subject);
    try {
      return await this.db.transaction(async (em) => {
        const link = await this.findById(linkId, em);
        if (!link) throw new IdentityError('not_found', 'upstream link not found');
        await this.repo.setSubject(em, link.id, subject);
        await this.audit.record(em, {
          actor,
          action: 'upstream_link.replace_subject',
          target: link.id,
          userId: link.userId,
          details: { provider_id: link.providerId, old_subject: link.subject, subject },
        });
        return { ...link, subject };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new IdentityError('conflict', 'another user is already linked with this subject');
      throw e;
    }
  }
}

function assertSubject(subject: string): void {
  if (!subject || subject.length > 512) throw new IdentityError('invalid', 'subject must be 1-512 characters');
}
