import type { Database, Tx } from '../../database.service.js';
import { sqliteConnection } from '../../database.service.js';
import { ulid } from '../../ulid.js';
import { endSessionsStatement, type EndedSessions } from './session-end.postgres.js';
import { endSessionsSqlite, sessionsOfTokens, type TokenHashes } from './session-end.sqlite.js';

export type { EndedSessions, TokenHashes };

const BY_IDS = endSessionsStatement('ids');
const BY_TOKENS = endSessionsStatement('tokens');

/**
 * Live sessions past a cutoff: OAuth 2.0 sessions whose `expires_at` passed, OAuth 2.0 sessions
 * (personal-token ones excepted) or compatibility sessions last active before it.
 */
export type DeadSessionRule = 'oauth-expired' | 'oauth-inactive' | 'compat-inactive';

const DEAD: Record<DeadSessionRule, { table: 'oauth2_sessions' | 'compat_sessions'; column: 'last_active_at' | 'expires_at'; also?: string }> = {
  'oauth-expired': { table: 'oauth2_sessions', column: 'expires_at' },
  'oauth-inactive': { table: 'oauth2_sessions', column: 'last_active_at', also: "grant_type <> 'personal'" },
  'compat-inactive': { table: 'compat_sessions', column: 'last_active_at' },
};

const deadWhere = (rule: DeadSessionRule) => {
  const { column, also } = DEAD[rule];
  return `finished_at IS NULL AND ${column} < $1${also ? ` AND ${also}` : ''}`;
};

/**
 * Ending OAuth 2.0 and compatibility sessions, the hot path of every sign-out: mark them finished,
 * revoke their tokens, write one `devices.sync` outbox row per user and an audit row per session,
 * all at once. One statement on PostgreSQL (session-end.postgres.ts), synchronous prepared
 * statements on SQLite (session-end.sqlite.ts). Also finds the sessions the lifecycle sweep ends.
 */
export class SessionEndRepository {
  constructor(private readonly db: Database) {}

  /** Whether writes run side by side (PostgreSQL's pool) rather than one at a time (SQLite's one connection). */
  get writesInParallel(): boolean {
    return this.db.kind === 'postgres';
  }

  /** Inside the caller's transaction: ends the given sessions (distinct ids, at least one; those already finished are skipped). */
  async end(tx: Tx, ids: { oauth: string[]; compat: string[] }, reason: string, actor: string, now: number): Promise<EndedSessions> {
    if (this.db.kind === 'sqlite') return endSessionsSqlite(sqliteConnection(tx), ids, reason, actor, now);
    const auditIds = [...ids.oauth, ...ids.compat].map(() => ulid(now));
    return ((await tx.query(BY_IDS, [ids.oauth, ids.compat, now, reason, actor, auditIds])) as EndedSessions[])[0]!;
  }

  /**
   * Ends the sessions of these live tokens (one hash per token), committing by itself: one
   * statement on the pool (no transaction needed) on PostgreSQL, a queued synchronous transaction on SQLite.
   */
  async endByTokens(t: TokenHashes, reason: string, actor: string, now: number): Promise<EndedSessions> {
    if (this.db.kind === 'sqlite') return this.db.sqliteTransaction((conn) => endSessionsSqlite(conn, sessionsOfTokens(conn, t), reason, actor, now));
    const tokens = t.access.length + t.refresh.length + t.compatAccess.length + t.compatRefresh.length;
    const auditIds = Array.from({ length: tokens }, () => ulid(now));
    return (await this.db.pgQuery<EndedSessions & Record<string, unknown>>('causeway_revoke_tokens', BY_TOKENS, [t.access, t.refresh, t.compatAccess, t.compatRefresh, now, reason, actor, auditIds]))[0]!;
  }

  /** How many live sessions the rule finds before `cutoff` (the lifecycle sweep's dry run). */
  async countDead(rule: DeadSessionRule, cutoff: number): Promise<number> {
    const [row] = (await this.db.manager.query(this.sql(`SELECT count(*) AS n FROM ${DEAD[rule].table} WHERE ${deadWhere(rule)}`), [cutoff])) as { n: string | number }[];
    return Number(row?.n ?? 0);
  }

  /** Inside the caller's transaction: ids of at most `limit` live sessions the rule finds before `cutoff`, the longest dead first. */
  async deadIds(tx: Tx, rule: DeadSessionRule, cutoff: number, limit: number): Promise<string[]> {
    const { table, column } = DEAD[rule];
    const select = this.sql(`SELECT id FROM ${table} WHERE ${deadWhere(rule)} ORDER BY ${column} LIMIT $2`);
    return ((await tx.query(select, [cutoff, limit])) as { id: string }[]).map((r) => r.id);
  }

  private sql(text: string): string {
    return this.db.kind === 'postgres' ? text : text.replace(/\$\d+/g, '?');
  }
}
