/**
 * The statements `causeway import synapse` runs on Synapse's database, read-only, written once for
 * PostgreSQL and SQLite (`$n` placeholders become `?` on SQLite).
 *
 * Users are read in pages ordered by `users.name` (keyset, index users_name_key), each with a
 * fingerprint of every row the import reads about it, computed in the database from the user_id
 * indexes (user_external_ids_user_id_idx, user_threepids_user_id, device_uniqueness,
 * access_tokens_device_id): a run compares fingerprints with what it applied last time and reads
 * the rows of changed users only. The rows are read for a page's id range when most of the page
 * changed (a first run), else for the list of changed users.
 */
import type { SourceKind } from './synapse-rows.js';

/** Synapse's SCHEMA_VERSION this importer reads (Synapse 1.157; synapse/storage/schema/__init__.py). */
export const SYNAPSE_SCHEMA_VERSION = 94;

export const SCHEMA_VERSION_SQL = 'SELECT version FROM schema_version';

export const USER_COUNT_SQL = 'SELECT count(*) AS n FROM users WHERE name IS NOT NULL';

/** Preflight (before anything is written): external ids per auth_provider. */
export const PROVIDER_COUNTS_SQL = 'SELECT auth_provider, count(*) AS n FROM user_external_ids GROUP BY auth_provider';

/** Preflight: users whose id does not end with `:<server_name>` ($1 and $2 are both the suffix). */
export const OTHER_SERVER_SQL = 'SELECT count(*) AS n FROM users WHERE name IS NOT NULL AND substr(name, length(name) - length($1) + 1) <> $2';

/** Separators that cannot appear in Synapse's values (ASCII unit/record/group separators). */
const FIELD = { postgres: 'chr(30)', sqlite: 'char(30)' };
const ROW = { postgres: 'chr(29)', sqlite: 'char(29)' };

/** `string_agg`/`group_concat` of the rows of one user, in a fixed order, NULL-safe. */
function agg(kind: SourceKind, fields: string[], order: string, from: string): string {
  const row = fields.map((f) => `coalesce(CAST(${f} AS TEXT), '')`).join(` || ${FIELD[kind]} || `);
  const fn = kind === 'postgres' ? 'string_agg' : 'group_concat';
  return `coalesce((SELECT ${fn}(${row}, ${ROW[kind]} ORDER BY ${order}) ${from}), '')`;
}

/**
 * Where pages end: every `$1`-th user id in `users.name` order (one pass over the name index), so
 * that pages are independent key ranges that can be read in parallel.
 */
export const PAGE_BOUNDS_SQL = `SELECT name FROM (SELECT name, row_number() OVER (ORDER BY name) AS n FROM users WHERE name IS NOT NULL) AS numbered
WHERE n % $1 = 0 ORDER BY name`;

/**
 * The users of a page (`name > $1`, and `name <= $2` unless it is the last page) with their
 * profile and a fingerprint of their other rows (on PostgreSQL the md5 of the text, on SQLite the
 * text itself: the importer hashes it). `last_validated` and `devices.last_seen` are left out:
 * Synapse updates them as sessions are used.
 */
export function usersPageSql(kind: SourceKind, bounded: boolean): string {
  const parts = [
    agg(kind, ['e.auth_provider', 'e.external_id'], 'e.auth_provider, e.external_id', 'FROM user_external_ids e WHERE e.user_id = u.name'),
    agg(kind, ['t.medium', 't.address', 't.added_at'], 't.medium, t.address', 'FROM user_threepids t WHERE t.user_id = u.name'),
    agg(kind, ['d.device_id', 'd.display_name', 'd.hidden'], 'd.device_id', 'FROM devices d WHERE d.user_id = u.name'),
    // A token never changes once written but for `used` (set on a refreshable token's first use):
    // its id stands for it, refresh_token_id for its pair. A pair's successor is the same user's
    // token, so a refresh (a new id) or the successor's first use (its `used`) changes this text,
    // which is all Synapse's refresh checks depend on: no join to refresh_tokens is needed here.
    agg(kind, ['a.id', 'a.device_id', 'a.valid_until_ms', 'a.puppets_user_id', 'a.refresh_token_id', 'a.used'], 'a.id', 'FROM access_tokens a WHERE a.user_id = u.name'),
  ].join(` || ${ROW[kind]} || ${ROW[kind]} || `);
  const fingerprint = kind === 'postgres' ? `md5(${parts})` : parts;
  return `SELECT u.name, u.password_hash IS NOT NULL AS has_password, u.creation_ts, u.admin, u.is_guest,
  u.appservice_id, u.user_type, u.deactivated, u.shadow_banned, u.locked, u.suspended, p.displayname, ${fingerprint} AS fingerprint
FROM users u LEFT JOIN profiles p ON p.full_user_id = u.name
WHERE u.name IS NOT NULL AND u.name > $1${bounded ? ' AND u.name <= $2' : ''} ORDER BY u.name`;
}

/** Which users' rows to read: a page's id range (`$1`..`$2`) or a list of user ids (`$1`). */
export type Selection = 'range' | 'list';

function where(kind: SourceKind, sel: Selection, column: string): string {
  if (sel === 'range') return `${column} BETWEEN $1 AND $2`;
  return kind === 'postgres' ? `${column} = ANY($1::text[])` : `${column} IN (SELECT value FROM json_each($1))`;
}

export const externalIdsSql = (kind: SourceKind, sel: Selection) => `SELECT user_id, auth_provider, external_id FROM user_external_ids WHERE ${where(kind, sel, 'user_id')}`;

export const threepidsSql = (kind: SourceKind, sel: Selection) => `SELECT user_id, medium, address, added_at FROM user_threepids WHERE ${where(kind, sel, 'user_id')}`;

export const devicesSql = (kind: SourceKind, sel: Selection) => `SELECT user_id, device_id, display_name, hidden FROM devices WHERE ${where(kind, sel, 'user_id')}`;

/**
 * Access tokens with their refresh pair, and the two facts Synapse's refresh checks about the
 * pair's successor (synapse/storage/databases/main/registration.py, lookup_refresh_token): whether
 * the next refresh token was itself refreshed, and whether the next access token was used.
 */
export const tokensSql = (kind: SourceKind, sel: Selection) => `SELECT a.id, a.user_id, a.device_id, a.token, a.valid_until_ms, a.puppets_user_id IS NOT NULL AS puppet,
  a.last_validated, r.token AS refresh_token, r.expiry_ts AS refresh_expiry_ts,
  nrt.next_token_id IS NOT NULL AS next_refreshed, na.used AS next_used
FROM access_tokens a
LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
LEFT JOIN refresh_tokens nrt ON nrt.id = r.next_token_id
LEFT JOIN access_tokens na ON na.refresh_token_id = nrt.id
WHERE ${where(kind, sel, 'a.user_id')}`;
