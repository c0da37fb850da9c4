import type BetterSqlite3 from 'better-sqlite3';
import { prepared } from '../../database.service.js';
import { ulid } from '../../ulid.js';
import type { EndedSessions } from './session-end.postgres.js';

/**
 * Ending sessions on SQLite: the same changes as the PostgreSQL statement (session-end.postgres.ts),
 * as prepared statements run synchronously on the raw connection inside the caller's transaction.
 * SQLite runs one transaction at a time (Database queues them), so outbox ids already follow commit
 * order and no lock is needed. Synchronous statements cost microseconds; each awaited TypeORM call
 * cost a round of query building and event-loop turns.
 */

type Statement = BetterSqlite3.Statement<unknown[], Record<string, unknown>>;

const SQL = {
  endOAuth: `UPDATE oauth2_sessions SET finished_at = ?, finish_reason = ? WHERE id = ? AND finished_at IS NULL RETURNING user_id, client_id, device_id`,
  endCompat: `UPDATE compat_sessions SET finished_at = ?, finish_reason = ? WHERE id = ? AND finished_at IS NULL RETURNING user_id, device_id`,
  revokeAccess: `UPDATE access_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL RETURNING token_hash AS h`,
  revokeRefresh: `UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL RETURNING token_hash AS h`,
  revokeCompat: `UPDATE compat_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL RETURNING access_token_hash AS a, refresh_token_hash AS r`,
  localpart: `SELECT localpart FROM users WHERE id = ?`,
  outbox: `INSERT INTO outbox (user_key, kind, payload, created_at) VALUES (?, 'devices.sync', '{}', ?)`,
  audit: `INSERT INTO audit_log (id, actor, action, target, user_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  byAccess: `SELECT session_id AS id FROM access_tokens WHERE token_hash = ? AND revoked_at IS NULL`,
  byRefresh: `SELECT session_id AS id FROM refresh_tokens WHERE token_hash = ? AND revoked_at IS NULL`,
  byCompatAccess: `SELECT session_id AS id FROM compat_tokens WHERE access_token_hash = ? AND revoked_at IS NULL`,
  byCompatRefresh: `SELECT session_id AS id FROM compat_tokens WHERE refresh_token_hash = ? AND revoked_at IS NULL`,
} as const;

type Statements = Record<keyof typeof SQL, Statement>;

function statements(conn: BetterSqlite3.Database): Statements {
  return Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, prepared(conn, sql)])) as Statements;
}

/** Live token hashes by kind, as the PostgreSQL `tokens` source takes them. */
export interface TokenHashes {
  access: string[];
  refresh: string[];
  compatAccess: string[];
  compatRefresh: string[];
}

/** The sessions the live tokens belong to (ending them skips those already finished). */
export function sessionsOfTokens(conn: BetterSqlite3.Database, t: TokenHashes): { oauth: string[]; compat: string[] } {
  const s = statements(conn);
  const ids = (st: Statement, hashes: string[]) => hashes.map((h) => st.get(h)?.id as string | undefined).filter((id): id is string => !!id);
  return {
    oauth: [...new Set([...ids(s.byAccess, t.access), ...ids(s.byRefresh, t.refresh)])],
    compat: [...new Set([...ids(s.byCompatAccess, t.compatAccess), ...ids(s.byCompatRefresh, t.compatRefresh)])],
  };
}

/** Ends the given sessions (distinct ids; those already finished are skipped); call inside a transaction. */
export function endSessionsSqlite(conn: BetterSqlite3.Database, ids: { oauth?: string[]; compat?: string[] }, reason: string, actor: string, now: number): EndedSessions {
  const s = statements(conn);
  const at = BigInt(now);
  const hashes: string[] = [];
  const userIds = new Set<string>();
  let ended = 0;
  const audit = (action: string, target: string, details: Record<string, unknown>) => s.audit.run(ulid(now), actor, action, target, (details.user_id as string | null) ?? null, JSON.stringify(details), at);

  for (const id of ids.oauth ?? []) {
    const row = s.endOAuth.get(at, reason, id) as { user_id: string | null; client_id: string; device_id: string | null } | undefined;
    if (!row) continue;
    ended++;
    for (const r of s.revokeAccess.all(at, id)) hashes.push(r.h as string);
    for (const r of s.revokeRefresh.all(at, id)) hashes.push(r.h as string);
    if (row.user_id) userIds.add(row.user_id);
    audit('oauth2_session.end', id, { reason, client_id: row.client_id, user_id: row.user_id, device_id: row.device_id });
  }
  for (const id of ids.compat ?? []) {
    const row = s.endCompat.get(at, reason, id) as { user_id: string; device_id: string } | undefined;
    if (!row) continue;
    ended++;
    for (const r of s.revokeCompat.all(at, id)) {
      hashes.push(r.a as string);
      if (r.r) hashes.push(r.r as string);
    }
    userIds.add(row.user_id);
    audit('compat_session.end', id, { reason, user_id: row.user_id, device_id: row.device_id });
  }
  for (const userId of userIds) {
    const localpart = s.localpart.get(userId)?.localpart as string | undefined;
    if (localpart) s.outbox.run(localpart, at);
  }
  return { ended, hashes };
}
