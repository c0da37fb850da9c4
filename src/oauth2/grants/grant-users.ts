import type { EntityManager } from 'typeorm';
import { BrowserSessionEntity, UserEntity } from '../../storage/entities/index.js';
import type { DbKind } from '../../storage/data-source.js';

/** The user a grant is for, if they may still sign in (not locked, not deactivated). */
export async function activeUser(em: EntityManager, userId: string): Promise<UserEntity | undefined> {
  const u = await em.findOneBy(UserEntity, { id: userId });
  if (!u || u.locked_at !== null || u.deactivated_at !== null) return undefined;
  return u;
}

/**
 * Whether the browser session a grant was issued in is still live (not ended, not past
 * `login.browser_session_ttl`), read inside the grant's transaction. On PostgreSQL the row is
 * locked (FOR SHARE), so a sign-out racing the exchange either commits first (and is seen here) or
 * waits for this transaction, then finds and ends the session it created. SQLite runs one
 * transaction at a time.
 */
export async function liveBrowserSession(em: EntityManager, kind: DbKind, id: string | null, ttlSeconds: number, now: number): Promise<boolean> {
  if (!id) return false;
  const row = await em.findOne(BrowserSessionEntity, { where: { id }, ...(kind === 'postgres' ? { lock: { mode: 'pessimistic_read' as const } } : {}) });
  return !!row && row.finished_at === null && now < row.created_at + ttlSeconds * 1000;
}
