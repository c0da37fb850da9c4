import type { Tx } from '../../storage/database.service.js';
import type { BrowserSessionRepository } from '../../storage/repositories/browser-session.repository.js';
import type { UserRecord, UserRepository } from '../../storage/repositories/user.repository.js';

/** The user a grant is for, if they may still sign in (not locked, not deactivated), read inside the grant's transaction. */
export async function activeUser(users: UserRepository, tx: Tx, userId: string): Promise<UserRecord | undefined> {
  const u = await users.findById(userId, tx);
  if (!u || u.lockedAt !== null || u.deactivatedAt !== null) return undefined;
  return u;
}

/**
 * Whether the browser session a grant was issued in is still live (not ended, not past
 * `login.browser_session_ttl`), read inside the grant's transaction. On PostgreSQL the row is
 * locked (FOR SHARE), so a sign-out racing the exchange either commits first (and is seen here) or
 * waits for this transaction, then finds and ends the session it created. SQLite runs one
 * transaction at a time.
 */
export async function liveBrowserSession(sessions: BrowserSessionRepository, tx: Tx, id: string | null, ttlSeconds: number, now: number): Promise<boolean> {
  if (!id) return false;
  const row = await sessions.findLocked(tx, id);
  return !!row && row.finishedAt === null && now < row.createdAt + ttlSeconds * 1000;
}
