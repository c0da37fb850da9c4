import { Injectable } from '@nestjs/common';
import type { Tx } from '../storage/database.service.js';
import { UserRepository } from '../storage/repositories/user.repository.js';
import type { User, UserEmail } from './identity.types.js';

export interface NewUser {
  localpart: string;
  displayName?: string | null;
  /** The IdP-asserted email (also the first of `emails`). */
  email?: string | null;
  /** Every address of the user (pre-provisioning); `email` is added to them. */
  emails?: readonly string[];
  canRequestAdmin?: boolean;
}

/** Users and their emails: find, create, profile. Lifecycle changes are UserLifecycle's. */
@Injectable()
export class UsersService {
  constructor(private readonly repo: UserRepository) {}

  findById(id: string, tx?: Tx): Promise<User | undefined> {
    return this.repo.findById(id, tx);
  }

  findByLocalpart(localpart: string, tx?: Tx): Promise<User | undefined> {
    return this.repo.findByLocalpart(localpart, tx);
  }

  /** Inside the caller's transaction. A taken localpart fails on the unique index (see isUniqueViolation). */
  async create(tx: Tx, u: NewUser, now = Date.now()): Promise<User> {
    const user = await this.repo.insert(tx, { localpart: u.localpart, displayName: u.displayName ?? null, email: u.email ?? null, canRequestAdmin: u.canRequestAdmin ?? false }, now);
    for (const address of new Set([...(u.email ? [u.email] : []), ...(u.emails ?? [])])) await this.repo.addEmail(tx, user.id, address, now);
    return user;
  }

  /** Profile attributes synced from upstream (`sync: always`); undefined leaves a field alone. */
  async updateProfile(tx: Tx, userId: string, p: { displayName?: string | null; email?: string | null }): Promise<void> {
    await this.repo.update(tx, userId, { displayName: p.displayName, email: p.email });
    if (p.email) await this.repo.addEmail(tx, userId, p.email);
  }

  /** Adds an address (lower-cased) unless the user has it already. */
  addEmail(tx: Tx, userId: string, email: string, now = Date.now()): Promise<void> {
    return this.repo.addEmail(tx, userId, email, now);
  }

  emails(userId: string, tx?: Tx): Promise<UserEmail[]> {
    return this.repo.emails(userId, tx);
  }
}
