import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database.service.js';
import { prepared } from './database.service.js';
import { DB_LEASE_PREFIX } from './leases.js';

/**
 * What the retention sweeper deletes (docs/operator/policy.md), one rule per kind of row.
 * Every rule deletes at most `limit` rows per statement, picked through an index, so a statement
 * takes milliseconds and holds no lock a sign-in waits on for longer than that: the rows it
 * touches are dead (expired, used, revoked, finished long ago), nothing live refers to them.
 *
 * `cutoff`: rows whose deciding timestamp is before it go. A rule whose cutoff is undefined
 * (e.g. `retention.audit` unset: keep audit rows) is skipped.
 */
export interface RetentionCutoffs {
  /** Now minus `retention.tokens`: tokens, codes and device codes that expired, were used or revoked before. */
  tokens: number;
  /** Now minus `retention.sessions`: sessions that finished before. */
  sessions: number;
  /** Now minus `retention.outbox`: delivered events. */
  outbox: number;
  /** Now minus `retention.audit`, or undefined (keep). */
  audit?: number;
  /** Now: expired keyed values (login states, single-use states, replay caches). */
  kv: number;
}

type Table =
  'access_tokens' | 'refresh_tokens' | 'authorization_grants' | 'device_codes' | 'compat_tokens' | 'oauth2_sessions' | 'compat_sessions' | 'browser_sessions' | 'upstream_sessions' | 'kv_entries' | 'outbox' | 'audit_log';

/** Rows deleted per table. */
export type Deleted = Partial<Record<Table, number>>;

export interface RetentionRule {
  /** The table the rule is named after (its other tables are children deleted with it). */
  table: Table;
  cutoff: keyof RetentionCutoffs;
  /** Rows that would go (dry run): `$1` = cutoff. */
  count: string;
  /** PostgreSQL: one statement, `$1` cutoff, `$2` limit, returning one row of counts per table. */
  postgres: string;
  /** SQLite: the ids to delete (`?` cutoff, `?` limit), then statements taking the ids as JSON. */
  sqlite: { select: string; deletes: { table: Table; sql: string }[] };
}

/** A rule on one table: rows matching `where` (on `$1`), oldest `order` first. */
function simple(table: Table, cutoff: keyof RetentionCutoffs, where: string, order: string, pk = 'id'): RetentionRule {
  const pick = (p: string, l: string) => `SELECT ${pk} FROM ${table} WHERE ${where.replace(/\$1/g, p)} ORDER BY ${order} LIMIT ${l}`;
  return {
    table,
    cutoff,
    count: `SELECT count(*) AS n FROM ${table} WHERE ${where}`,
    postgres: `WITH d AS (DELETE FROM ${table} WHERE ${pk} IN (${pick('$1', '$2')}) RETURNING 1) SELECT count(*)::int AS ${table} FROM d`,
    sqlite: { select: pick('?', '?'), deletes: [{ table, sql: `DELETE FROM ${table} WHERE ${pk} IN (SELECT value FROM json_each(?))` }] },
  };
}

/** A parent table whose rows go with their children (tokens of a session, upstream sessions of a browser session). */
function withChildren(table: Table, where: string, order: string, children: { table: Table; column: string }[]): RetentionRule {
  const pick = (p: string, l: string) => `SELECT id FROM ${table} p WHERE ${where.replace(/\$1/g, p)} ORDER BY ${order} LIMIT ${l}`;
  const ctes = children.map((c, i) => `c${i} AS (DELETE FROM ${c.table} WHERE ${c.column} IN (SELECT id FROM picked) RETURNING 1)`);
  const counts = children.map((c, i) => `(SELECT count(*) FROM c${i})::int AS ${c.table}`);
  return {
    table,
    cutoff: 'sessions',
    count: `SELECT count(*) AS n FROM ${table} p WHERE ${where}`,
    postgres: `WITH picked AS (${pick('$1', '$2')}), ${ctes.join(', ')}, d AS (DELETE FROM ${table} WHERE id IN (SELECT id FROM picked) RETURNING 1)
      SELECT (SELECT count(*) FROM d)::int AS ${table}, ${counts.join(', ')}`,
    sqlite: {
      select: pick('?', '?'),
      deletes: [
        ...children.map((c) => ({ table: c.table, sql: `DELETE FROM ${c.table} WHERE ${c.column} IN (SELECT value FROM json_each(?))` })),
        { table, sql: `DELETE FROM ${table} WHERE id IN (SELECT value FROM json_each(?))` },
      ],
    },
  };
}

/** Finished browser sessions still referenced by a live session stay: inbound upstream logout finds that session through them. */
const NO_LIVE_CHILD = `NOT EXISTS (SELECT 1 FROM oauth2_sessions o WHERE o.browser_session_id = p.id AND o.finished_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM compat_sessions c WHERE c.browser_session_id = p.id AND c.finished_at IS NULL)`;

/** In order: children before the parents that would otherwise bring them along anyway. */
export const RETENTION_RULES: readonly RetentionRule[] = [
  // An expired access token stays while its refresh token is live: a refresh reads whether it was used (retry window).
  simple('access_tokens', 'tokens', `expires_at < $1 AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.access_token_id = access_tokens.id AND r.consumed_at IS NULL AND r.revoked_at IS NULL)`, 'expires_at'),
  // Consumed by a refresh: reuse of one is detected within the grace period, after that it is unknown.
  simple('refresh_tokens', 'tokens', 'consumed_at < $1', 'consumed_at'),
  simple('authorization_grants', 'tokens', 'expires_at < $1', 'expires_at'),
  simple('device_codes', 'tokens', 'expires_at < $1', 'expires_at'),
  simple('compat_tokens', 'tokens', 'refresh_consumed_at < $1', 'refresh_consumed_at'),
  withChildren('oauth2_sessions', 'finished_at < $1', 'finished_at', [
    { table: 'access_tokens', column: 'session_id' },
    { table: 'refresh_tokens', column: 'session_id' },
  ]),
  withChildren('compat_sessions', 'finished_at < $1', 'finished_at', [{ table: 'compat_tokens', column: 'session_id' }]),
  withChildren('browser_sessions', `finished_at < $1 AND ${NO_LIVE_CHILD}`, 'finished_at', [{ table: 'upstream_sessions', column: 'browser_session_id' }]),
  simple('kv_entries', 'kv', `expires_at < $1 AND key NOT LIKE '${DB_LEASE_PREFIX}%'`, 'expires_at', 'key'),
  // By id: delivered rows are the oldest; no index on delivered_at (outbox.entity.ts says why).
  simple('outbox', 'outbox', 'delivered_at < $1', 'id'),
  simple('audit_log', 'audit', 'created_at < $1', 'created_at'),
];

/** The rules' statements against one database. */
export class RetentionStore {
  constructor(private readonly db: Database) {}

  /** Rows a rule would delete now (dry run). */
  async count(rule: RetentionRule, cutoff: number): Promise<number> {
    const sql = this.db.kind === 'postgres' ? rule.count : rule.count.replace(/\$1/g, '?');
    const params = this.db.kind === 'postgres' ? [cutoff] : Array.from(sql.matchAll(/\?/g), () => cutoff);
    const [row] = (await this.db.manager.query(sql, params)) as { n: string | number }[];
    return Number(row?.n ?? 0);
  }

  /**
   * One batch of a rule: at most `limit` rows of its table (and their children). `ms`: how long the
   * statement held the database (SQLite: the transaction itself, not its wait in the queue).
   */
  async deleteBatch(rule: RetentionRule, cutoff: number, limit: number): Promise<{ deleted: Deleted; ms: number }> {
    if (this.db.kind === 'postgres') {
      const t0 = performance.now();
      const [row] = await this.db.pgQuery<Record<string, number>>(`causeway_retention_${rule.table}`, rule.postgres, [cutoff, limit]);
      return { deleted: row ?? {}, ms: performance.now() - t0 };
    }
    let ms = 0;
    const deleted = await this.db.sqliteTransaction((conn) => {
      const t0 = performance.now();
      try {
        return this.sqliteBatch(conn, rule, cutoff, limit);
      } finally {
        ms = performance.now() - t0;
      }
    });
    return { deleted, ms };
  }

  private sqliteBatch(conn: BetterSqlite3.Database, rule: RetentionRule, cutoff: number, limit: number): Deleted {
    const select = prepared(conn, rule.sqlite.select);
    // Every `?` is the cutoff but the last, the limit.
    const marks = rule.sqlite.select.split('?').length - 1;
    const bound = [...Array<bigint>(marks - 1).fill(BigInt(cutoff)), BigInt(limit)];
    const ids = select.all(...bound).map((r) => Object.values(r)[0]);
    const out: Deleted = {};
    if (!ids.length) return { [rule.table]: 0 };
    const json = JSON.stringify(ids);
    for (const d of rule.sqlite.deletes) out[d.table] = (out[d.table] ?? 0) + prepared(conn, d.sql).run(json).changes;
    return out;
  }
}
