import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Database } from '../storage/database.service.js';
import { UserEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';
import type { User } from './identity.types.js';

export function toUser(e: UserEntity): User {
  return {
    id: e.id,
    localpart: e.localpart,
    createdAt: e.created_at,
    lockedAt: e.locked_at,
    deactivatedAt: e.deactivated_at,
    displayName: e.display_name,
    email: e.email,
    canRequestAdmin: e.can_request_admin,
  };
}

export interface NewUser {
  localpart: string;
  displayName?: string | null;
  email?: string | null;
}

/** The users table: find and create. Locking and deactivation belong to the admin logic. */
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
      can_request_admin: false,
      display_name: u.displayName ?? null,
      email: u.email ?? null,
    };
    await em.insert(UserEntity, row);
    return toUser(row);
  }

  /** Profile attributes synced from upstream (`sync: always`); undefined leaves a field alone. */
  async updateProfile(em: EntityManager, userId: string, p: { displayName?: string | null; email?: string | null }): Promise<void> {
    const set: Partial<UserEntity> = {};
    if (p.displayName !== undefined) set.display_name = p.displayName;
    if (p.email !== undefined) set.email = p.email;
    if (Object.keys(set).length) await em.update(UserEntity, { id: userId }, set);
  }
}
