import type { EntityManager } from 'typeorm';
import { UserEntity } from '../../storage/entities/index.js';

/** The user a grant is for, if they may still sign in (not locked, not deactivated). */
export async function activeUser(em: EntityManager, userId: string): Promise<UserEntity | undefined> {
  const u = await em.findOneBy(UserEntity, { id: userId });
  if (!u || u.locked_at !== null || u.deactivated_at !== null) return undefined;
  return u;
}
