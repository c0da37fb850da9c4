import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { Database } from '../storage/database.service.js';
import { UpstreamLinkEntity } from '../storage/entities/index.js';
import { AuditLogRepository, type Actor } from '../storage/repositories/audit-log.repository.js';
import { ulid } from '../storage/ulid.js';
import { IdentityError } from './identity-errors.js';
import type { UpstreamLink } from './identity.types.js';
import { isUniqueViolation } from './unique-violation.js';

const toLink = (e: UpstreamLinkEntity): UpstreamLink => ({ id: e.id, providerId: e.provider_id, subject: e.subject, userId: e.user_id, createdAt: Number(e.created_at) });

/**
 * Upstream identities (provider + subject, unique) attached to users: found and created by the
 * login flow, and managed by operators (add, remove, re-key) with an audit row each.
 */
@Injectable()
export class UpstreamLinksService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLogRepository,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  async find(providerId: string, subject: string, em: EntityManager = this.db.manager): Promise<UpstreamLink | undefined> {
    const e = await em.findOneBy(UpstreamLinkEntity, { provider_id: providerId, subject });
    return e ? toLink(e) : undefined;
  }

  async findById(id: string, em: EntityManager = this.db.manager): Promise<UpstreamLink | undefined> {
    const e = await em.findOneBy(UpstreamLinkEntity, { id });
    return e ? toLink(e) : undefined;
  }

  async forUser(userId: string, em: EntityManager = this.db.manager): Promise<UpstreamLink[]> {
    return (await em.find(UpstreamLinkEntity, { where: { user_id: userId }, order: { id: 'ASC' } })).map(toLink);
  }

  /** Inside the caller's transaction; a second link for the same provider+subject fails on the unique index. */
  async create(em: EntityManager, l: { providerId: string; subject: string; userId: string }, now = Date.now()): Promise<UpstreamLink> {
    const row: UpstreamLinkEntity = { id: ulid(now), provider_id: l.providerId, subject: l.subject, user_id: l.userId, created_at: now };
    await em.insert(UpstreamLinkEntity, row);
    return toLink(row);
  }

  /**
   * Inside the caller's transaction: removes the user's links of one provider and returns them
   * (the sign-in's `on_conflict: replace`, when the IdP re-keyed its users). The caller audits.
   */
  async removeForProvider(em: EntityManager, userId: string, providerId: string): Promise<UpstreamLink[]> {
    const rows = await em.findBy(UpstreamLinkEntity, { user_id: userId, provider_id: providerId });
    if (rows.length) await em.delete(UpstreamLinkEntity, rows.map((r) => r.id));
    return rows.map(toLink);
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
      await em.delete(UpstreamLinkEntity, { id: link.id });
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
        await em.update(UpstreamLinkEntity, { id: link.id }, { subject });
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
