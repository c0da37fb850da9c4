/**
 * The statements `causeway import synapse` runs on Synapse's database: read-only, the same text for
 * PostgreSQL and SQLite (`$n` placeholders become `?` on SQLite). Users are read in pages ordered by
 * `users.name` (keyset); the other tables are read for the id range of a page through their
 * `user_id` indexes (user_external_ids_user_id_idx, user_threepids_user_id, device_uniqueness,
 * access_tokens_device_id), so one page costs one index range scan per table whatever its size.
 */

/** Synapse's SCHEMA_VERSION this importer reads (Synapse 1.157; synapse/storage/schema/__init__.py). */
export const SYNAPSE_SCHEMA_VERSION = 94;

export const SCHEMA_VERSION_SQL = 'SELECT version FROM schema_version';

export const USERS_PAGE_SQL = `SELECT u.name, u.password_hash IS NOT NULL AS has_password, u.creation_ts, u.admin, u.is_guest,
  u.appservice_id, u.user_type, u.deactivated, u.shadow_banned, u.locked, u.suspended, p.displayname
FROM users u LEFT JOIN profiles p ON p.full_user_id = u.name
WHERE u.name IS NOT NULL AND u.name > $1 ORDER BY u.name LIMIT $2`;

export const USER_COUNT_SQL = 'SELECT count(*) AS n FROM users WHERE name IS NOT NULL';

/** Preflight (before anything is written): external ids per auth_provider. */
export const PROVIDER_COUNTS_SQL = 'SELECT auth_provider, count(*) AS n FROM user_external_ids GROUP BY auth_provider';

/** Preflight: users whose id does not end with `:<server_name>` ($1 and $2 are both the suffix). */
export const OTHER_SERVER_SQL = 'SELECT count(*) AS n FROM users WHERE name IS NOT NULL AND substr(name, length(name) - length($1) + 1) <> $2';

export const EXTERNAL_IDS_SQL = 'SELECT user_id, auth_provider, external_id FROM user_external_ids WHERE user_id BETWEEN $1 AND $2';

export const THREEPIDS_SQL = 'SELECT user_id, medium, address, added_at FROM user_threepids WHERE user_id BETWEEN $1 AND $2';

export const DEVICES_SQL = 'SELECT user_id, device_id, display_name, hidden FROM devices WHERE user_id BETWEEN $1 AND $2';

/**
 * Access tokens with their refresh pair, and the two facts Synapse's refresh checks about the
 * pair's successor (synapse/storage/databases/main/registration.py, lookup_refresh_token): whether
 * the next refresh token was itself refreshed, and whether the next access token was used.
 */
export const TOKENS_SQL = `SELECT a.id, a.user_id, a.device_id, a.token, a.valid_until_ms, a.puppets_user_id IS NOT NULL AS puppet,
  a.last_validated, r.token AS refresh_token, r.expiry_ts AS refresh_expiry_ts,
  nrt.next_token_id IS NOT NULL AS next_refreshed, na.used AS next_used
FROM access_tokens a
LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
LEFT JOIN refresh_tokens nrt ON nrt.id = r.next_token_id
LEFT JOIN access_tokens na ON na.refresh_token_id = nrt.id
WHERE a.user_id BETWEEN $1 AND $2`;

/** The Synapse columns read, by table (for the operator guide and `--check`'s report). */
export const SYNAPSE_COLUMNS_READ: Record<string, string[]> = {
  schema_version: ['version'],
  users: ['name', 'password_hash (only whether it is set)', 'creation_ts', 'admin', 'is_guest', 'appservice_id', 'user_type', 'deactivated', 'shadow_banned', 'locked', 'suspended'],
  profiles: ['full_user_id', 'displayname'],
  user_external_ids: ['user_id', 'auth_provider', 'external_id'],
  user_threepids: ['user_id', 'medium', 'address', 'added_at'],
  devices: ['user_id', 'device_id', 'display_name', 'hidden'],
  access_tokens: ['id', 'user_id', 'device_id', 'token', 'valid_until_ms', 'puppets_user_id', 'last_validated', 'refresh_token_id', 'used'],
  refresh_tokens: ['id', 'token', 'next_token_id', 'expiry_ts'],
};
