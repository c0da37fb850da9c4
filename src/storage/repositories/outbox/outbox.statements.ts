import type { HotStatement } from '../../database.service.js';

const ROW_COLUMNS = 'id, user_key, kind, payload, created_at, attempts';

/**
 * The statements delivery runs for every batch, without TypeORM (Database.hot): constant texts,
 * prepared once. Conditions are written for the index each should use, whatever the planner's
 * statistics say about a queue table that grows and empties by the minute: the partial pending
 * index for a user's pending rows; the primary key for updates by id (hence COALESCE, which no
 * index matches, instead of `delivered_at IS NULL`).
 */
export const HOT = {
  pendingRows: {
    name: 'causeway_outbox_pending_rows',
    postgres: `SELECT ${ROW_COLUMNS} FROM outbox WHERE user_key = ANY($1::varchar[]) AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT $2`,
    sqlite: `SELECT ${ROW_COLUMNS} FROM outbox WHERE user_key IN (SELECT value FROM json_each(?)) AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT ?`,
  },
  // A row with a NULL device marks an account imported from Synapse (see LiveDevice).
  activeDevices: {
    name: 'causeway_outbox_active_devices',
    postgres: `SELECT u.localpart, s.device_id FROM users u JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE u.localpart = ANY($1::varchar[]) AND s.finished_at IS NULL AND s.device_id IS NOT NULL
      UNION ALL SELECT u.localpart, c.device_id FROM users u JOIN compat_sessions c ON c.user_id = u.id
      WHERE u.localpart = ANY($1::varchar[]) AND c.finished_at IS NULL
      UNION ALL SELECT u.localpart, NULL FROM users u WHERE u.localpart = ANY($1::varchar[]) AND u.imported_at IS NOT NULL`,
    sqlite: `WITH l(lp) AS (SELECT value FROM json_each(?))
      SELECT u.localpart, s.device_id FROM users u JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE u.localpart IN (SELECT lp FROM l) AND s.finished_at IS NULL AND s.device_id IS NOT NULL
      UNION ALL SELECT u.localpart, c.device_id FROM users u JOIN compat_sessions c ON c.user_id = u.id
      WHERE u.localpart IN (SELECT lp FROM l) AND c.finished_at IS NULL
      UNION ALL SELECT u.localpart, NULL FROM users u WHERE u.localpart IN (SELECT lp FROM l) AND u.imported_at IS NOT NULL`,
  },
  endedDevices: {
    name: 'causeway_outbox_ended_devices',
    postgres: `SELECT s.device_id FROM users u JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE u.localpart = $1 AND s.finished_at >= $2 AND s.device_id IS NOT NULL
      UNION SELECT c.device_id FROM users u JOIN compat_sessions c ON c.user_id = u.id WHERE u.localpart = $1 AND c.finished_at >= $2`,
    sqlite: `WITH p(lp, since) AS (SELECT ?, ?)
      SELECT s.device_id FROM p JOIN users u ON u.localpart = p.lp JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE s.finished_at >= p.since AND s.device_id IS NOT NULL
      UNION SELECT c.device_id FROM p JOIN users u ON u.localpart = p.lp JOIN compat_sessions c ON c.user_id = u.id WHERE c.finished_at >= p.since`,
  },
  markDelivered: {
    name: 'causeway_outbox_mark_delivered',
    postgres: `UPDATE outbox SET delivered_at = $1 WHERE id = ANY($2::bigint[]) AND COALESCE(delivered_at, 0) = 0`,
    sqlite: `UPDATE outbox SET delivered_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND COALESCE(delivered_at, 0) = 0`,
  },
  settledOf: {
    name: 'causeway_outbox_open_of',
    postgres: `SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND COALESCE(delivered_at, dead_at, 0) = 0`,
    sqlite: `SELECT id FROM outbox WHERE id IN (SELECT value FROM json_each(?)) AND COALESCE(delivered_at, dead_at, 0) = 0`,
  },
  unpublished: {
    name: 'causeway_outbox_unpublished',
    postgres: `SELECT ${ROW_COLUMNS} FROM outbox WHERE published_at IS NULL AND COALESCE(delivered_at, dead_at) IS NULL ORDER BY id LIMIT $1`,
    sqlite: `SELECT ${ROW_COLUMNS} FROM outbox WHERE published_at IS NULL AND COALESCE(delivered_at, dead_at) IS NULL ORDER BY id LIMIT ?`,
  },
  markPublished: {
    name: 'causeway_outbox_mark_published',
    postgres: `UPDATE outbox SET published_at = $1 WHERE id = ANY($2::bigint[])`,
    sqlite: `UPDATE outbox SET published_at = ? WHERE id IN (SELECT value FROM json_each(?))`,
  },
} satisfies Record<string, HotStatement>;
