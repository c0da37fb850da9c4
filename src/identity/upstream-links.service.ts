import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from '../storage/database.service.js';
import { UpstreamLinkEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';
import type { UpstreamLink } from './identity.types.js';

const toLink = (e: UpstreamLinkEntity): UpstreamLink => ({ id: e.id, providerId: e.provider_id, subject: e.subject, userId: e.user_id, createdAt: e.created_at });

/** Upstream identities (provider + subject, unique) attached to users. */
@Injectable()
export class UpstreamLinksService {
  constructor(private readonly db: Database) {}

  async find(providerId: string, subject: string, em: EntityManager = this.db.manager): Promise<UpstreamLink | undefined> {
    const e = await em.findOneBy(UpstreamLinkEntity, { provider_id: providerId, subject });
    return e ? toLink(e) : undefined;
  }

  async forUser(userId: string): Promise<UpstreamLink[]> {
    return (await this.db.manager.findBy(UpstreamLinkEntity, { user_id: userId })).map(toLink);
  }

  /** Inside the caller's transaction; a second link for the same provider+subject fails on the unique index. */
  async create(em: EntityManager, l: { providerId: string; subject: string; userId: string }, now = Date.now()): Promise<UpstreamLink> {
    const row: UpstreamLinkEntity = { id: ulid(now), provider_id: l.providerId, subject: l.subject, user_id: l.userId, created_at: now };
    await em.insert(UpstreamLinkEntity, row);
    return toLink(row);
  }
}
