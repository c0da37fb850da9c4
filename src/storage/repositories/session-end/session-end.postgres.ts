/**
 * Ending sessions on PostgreSQL in ONE statement (data-modifying CTEs): finish the sessions, revoke
 * their tokens, take each user's outbox lock and write one `devices.sync` row per user, and an
 * audit row per session. Every round trip costs system calls that outweigh the work, so this is 1
 * round trip where TypeORM took 10 (BEGIN, 8 statements, COMMIT); a revocation needs no
 * transaction around it at all, the statement is atomic by itself.
 *
 * The outbox lock is the one DbOutbox takes (a transaction-scoped advisory lock on the user key,
 * so a user's outbox ids follow commit order): here `lk` takes it, users in localpart order, before
 * `ob` draws the row ids. Sessions already finished are skipped by the UPDATEs' own
 * `finished_at IS NULL` (re-checked after waiting on a concurrent writer's row lock), so two
 * concurrent ends of one session end it once.
 */

/** Where the sessions to end come from. */
export type SessionSource =
  /** $1: OAuth session ids, $2: compat session ids. */
  | 'ids'
  /** $1: access token hashes, $2: refresh token hashes, $3: compat access, $4: compat refresh (live tokens only). */
  | 'tokens';

const SOURCES: Record<SessionSource, { params: number; sql: string }> = {
  ids: {
    params: 2,
    sql: `oauth_ids AS (SELECT unnest($1::varchar[]) AS id),
      compat_ids AS (SELECT unnest($2::varchar[]) AS id)`,
  },
  tokens: {
    params: 4,
    sql: `oauth_ids AS (
        SELECT session_id AS id FROM access_tokens WHERE token_hash = ANY($1::varchar[]) AND revoked_at IS NULL
        UNION SELECT session_id FROM refresh_tokens WHERE token_hash = ANY($2::varchar[]) AND revoked_at IS NULL),
      compat_ids AS (
        SELECT session_id AS id FROM compat_tokens WHERE access_token_hash = ANY($3::varchar[]) AND revoked_at IS NULL
        UNION SELECT session_id FROM compat_tokens WHERE refresh_token_hash = ANY($4::varchar[]) AND revoked_at IS NULL)`,
  },
};

/**
 * The statement for a source. Parameters after the source's own: now (ms), reason, actor, and one
 * pre-generated audit id per session that can end (ULIDs are made in JS).
 *
 * Returns one row: `ended` (sessions ended) and `hashes` (every token hash revoked, for the
 * introspection caches).
 */
export function endSessionsStatement(source: SessionSource): string {
  const { params, sql } = SOURCES[source];
  const [now, reason, actor, auditIds] = [1, 2, 3, 4].map((i) => `$${params + i}`);
  return `WITH ${sql},
    os AS (
      UPDATE oauth2_sessions SET finished_at = ${now}::bigint, finish_reason = ${reason}::varchar
      WHERE id IN (SELECT id FROM oauth_ids) AND finished_at IS NULL
      RETURNING id, user_id, client_id, device_id),
    cs AS (
      UPDATE compat_sessions SET finished_at = ${now}::bigint, finish_reason = ${reason}::varchar
      WHERE id IN (SELECT id FROM compat_ids) AND finished_at IS NULL
      RETURNING id, user_id, device_id),
    at AS (
      UPDATE access_tokens SET revoked_at = ${now}::bigint
      WHERE session_id IN (SELECT id FROM os) AND revoked_at IS NULL RETURNING token_hash),
    rt AS (
      UPDATE refresh_tokens SET revoked_at = ${now}::bigint
      WHERE session_id IN (SELECT id FROM os) AND revoked_at IS NULL RETURNING token_hash),
    ct AS (
      UPDATE compat_tokens SET revoked_at = ${now}::bigint
      WHERE session_id IN (SELECT id FROM cs) AND revoked_at IS NULL RETURNING access_token_hash, refresh_token_hash),
    lk AS MATERIALIZED (
      SELECT localpart, pg_advisory_xact_lock(hashtext('causeway.outbox:' || localpart)) AS locked
      FROM (SELECT localpart FROM users WHERE id IN (SELECT user_id FROM os UNION SELECT user_id FROM cs) ORDER BY localpart) u),
    ob AS (
      INSERT INTO outbox (user_key, kind, payload, created_at)
      SELECT localpart, 'devices.sync', '{}', ${now}::bigint FROM lk),
    ended AS MATERIALIZED (
      SELECT 'oauth2_session.end' AS action, id, user_id, json_build_object('reason', ${reason}::varchar, 'client_id', client_id, 'user_id', user_id, 'device_id', device_id) AS details FROM os
      UNION ALL
      SELECT 'compat_session.end', id, user_id, json_build_object('reason', ${reason}::varchar, 'user_id', user_id, 'device_id', device_id) FROM cs),
    au AS (
      INSERT INTO audit_log (id, actor, action, target, user_id, details, created_at)
      SELECT (${auditIds}::varchar[])[row_number() OVER ()], ${actor}::varchar, action, id, user_id, details::text, ${now}::bigint FROM ended)
    SELECT
      (SELECT count(*) FROM ended)::int AS ended,
      ARRAY(SELECT token_hash FROM at UNION ALL SELECT token_hash FROM rt
            UNION ALL SELECT access_token_hash FROM ct UNION ALL SELECT refresh_token_hash FROM ct WHERE refresh_token_hash IS NOT NULL) AS hashes`;
}

export interface EndedSessions {
  /** Sessions ended. */
  ended: number;
  /** Hashes of every token revoked (access, refresh, compat). */
  hashes: string[];
}
