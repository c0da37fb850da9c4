import { Database } from '../database.service.js';
import { UserEntity } from '../entities/index.js';

/** Which version of the terms of service each account accepted (two columns of `users`). */
export class TermsRepository {
  constructor(private readonly db: Database) {}

  async acceptedVersion(userId: string): Promise<string | null> {
    const row = await this.db.manager.findOne(UserEntity, { where: { id: userId }, select: { id: true, terms_version: true } });
    return row?.terms_version ?? null;
  }

  async accept(userId: string, version: string, now = Date.now()): Promise<void> {
    await this.db.manager.update(UserEntity, { id: userId }, { terms_version: version, terms_accepted_at: now });
  }
}
