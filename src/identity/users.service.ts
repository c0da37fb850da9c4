import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from '../storage/database.service.js';
import { UserEmailEntity, UserEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';
import type { User, UserEmail } from './identity.types.js';

export function toUser(e: UserEntity): User {
  return {
    id: e.id,
    localpart: e.localpart,
    createdAt: Number(e.created_at),
    lockedAt: e.locked_at,
    deactivatedAt: e.deactivated_at,
    displayName: e.display_name,
    email: e.email,
    canRequestAdmin: e.can_request_admin,
    idpAdmin: e.idp_admin,
  };
}

const toEmail = (e: UserEmailEntity): UserEmail => ({ id: e.id, userId: e.user_id, email: e.email, createdAt: Number(e.created_at) });

export interface NewUser {
  localpart: string;
  displayName?: string | null;
  /** The IdP-asserted email (also the first of `emails`). */
  email?: string | null;
  /** Every address of the user (pre-provisioning); `email` is added to them. */
  emails?: readonly string[];
  canRequestAdmin?: boolean;
}

/** The users table and the user's emails: find, create, profile. Lifecycle changes are UserLifecycle's. */
@Injectable()
export class UsersService {
  constructor(private readonly db: Database) {}

  async findById(id: string, em: EntityManager = this.db.manager): Promise<User | undefined> {
    const e = await em.findOneBy(UserEntity, { id });
    return e ? toUser(e) : undefined;
  }

  async findByLocalpart(localpart: string, em: EntityManager = this.db.manager): Promise<User | undefined> {
    const e = await em.findOneBy(UserEntity, { localpart });
    return e ? toUser(e) : undefined;
  }

  /** Inside the caller's transaction. A taken localpart fails on the unique index (see isUniqueViolation). */
  async create(em: EntityManager, u: NewUser, now = Date.now()): Promise<User> {
    const row: UserEntity = {
      id: ulid(now),
      localpart: u.localpart,
      created_at: now,
      locked_at: null,
      deactivated_at: null,
      can_request_admin: u.canRequestAdmin ?? false,
      idp_admin: false,
      display_name: u.displayName ?? null,
      email: u.email ?? null,
    };
    await em.insert(UserEntity, row);
    for (const address of new Set([...(u.email ? [u.email] : []), ...(u.emails ?? [])])) await this.addEmail(em, row.id, address, now);
    return toUser(row);
  }

  /** Profile attributes synced from upstream (`sync: always`); undefined leaves a field alone. */
  async updateProfile(em: EntityManager, userId: string, p: { displayName?: string | null; email?: string | null }): Promise<void> {
    const set: Partial<UserEntity> = {};
    if (p.displayName !== undefined) set.display_name = p.displayName;
    if (p.email !== undefined) set.email = p.email;
    if (Object.keys(set).length) await em.update(UserEntity, { id: userId }, set);
    if (p.email) await this.addEmail(em, userId, p.email);
  }

  /** Adds an address (lower-cased) unless the user has it already. */
  async addEmail(em: EntityManager, userId: string, email: string, now = Date.now()): Promise<void> {
    const address = email.toLowerCase();
    if (await em.findOneBy(UserEmailEntity, { user_id: userId, email: address })) return;
    await em.insert(UserEmailEntity, { id: ulid(now), user_id: userId, email: address, created_at: now });
  }

  async emails(userId: string, em: EntityManager = this.db.manager): Promise<UserEmail[]> {
    return (await em.find(UserEmailEntity, { where: { user_id: userId }, order: { id: 'ASC' } })).map(toEmail);
  }
}
