import type { DataSource } from 'typeorm';
import type { DbKind } from '../../storage/data-source.js';

/** Everything introspection needs about an access or refresh token, from one indexed lookup. */
export interface TokenRow {
  id: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  /** Access tokens: first use (introspection); refresh tokens: consumption by a refresh. */
  used_at: number | null;
  session_id: string;
  client_id: string;
  device_id: string | null;
  scope: string;
  finished_at: number | null;
  /** The session's last recorded use (SessionActivity), for `sessions.inactive_after`. */
  last_active_at: number | null;
  user_id: string | null;
  localpart: string | null;
  locked_at: number | null;
  deactivated_at: number | null;
}

const COLUMNS = `t.id, t.created_at, t.expires_at, t.revoked_at, %USED% AS used_at, s.id AS session_id, s.client_id, s.device_id, s.scope,
  s.finished_at, s.last_active_at, s.user_id, u.localpart, u.locked_at, u.deactivated_at`;
const query = (table: 'access_tokens' | 'refresh_tokens', used: string, placeholder: string) =>
  `SELECT ${COLUMNS.replace('%USED%', used)} FROM ${table} t JOIN oauth2_sessions s ON s.id = t.session_id LEFT JOIN users u ON u.id = s.user_id WHERE t.token_hash = ${placeholder}`;

/** A compat token (`mct_`/`mcr_`, the MSC3824 layer) and its session: no client, no scope (both are implied). */
export interface CompatTokenRow extends Omit<TokenRow, 'client_id' | 'scope' | 'device_id'> {
  device_id: string;
  /** A session imported from Synapse for a Synapse admin (its tokens carried admin rights before the switch). */
  synapse_admin: boolean;
}

const COMPAT_COLUMNS = `t.id, t.created_at, t.expires_at, t.revoked_at, t.refresh_consumed_at AS used_at, s.id AS session_id, s.device_id,
  s.synapse_admin, s.finished_at, s.last_active_at, s.user_id, u.localpart, u.locked_at, u.deactivated_at`;
const compatQuery = (column: 'access_token_hash' | 'refresh_token_hash', placeholder: string) =>
  `SELECT ${COMPAT_COLUMNS} FROM compat_tokens t JOIN compat_sessions s ON s.id = t.session_id LEFT JOIN users u ON u.id = s.user_id WHERE t.${column} = ${placeholder}`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
function toRow(r: Record<string, unknown> | undefined): TokenRow | undefined {
  if (!r) return undefined;
  return {
    ...(r as unknown as TokenRow),
    created_at: Number(r.created_at),
    expires_at: num(r.expires_at),
    revoked_at: num(r.revoked_at),
    used_at: num(r.used_at),
    finished_at: num(r.finished_at),
    last_active_at: num(r.last_active_at),
    locked_at: num(r.locked_at),
    deactivated_at: num(r.deactivated_at),
    ...('synapse_admin' in r ? { synapse_admin: r.synapse_admin === true || r.synapse_admin === 1 } : {}),
  };
}

/**
 * The introspection hot path talks to the driver directly (a prepared statement on
 * better-sqlite3, a named prepared statement on node-postgres): TypeORM's query runner costs more
 * than the lookup itself. Reads only; every write still goes through Database.transaction().
 */
export abstract class TokenLookup {
  abstract access(hash: string): Promise<TokenRow | undefined>;
  abstract refresh(hash: string): Promise<TokenRow | undefined>;
  /** Compat tokens: `used_at` is the refresh token's consumption. */
  abstract compatAccess(hash: string): Promise<CompatTokenRow | undefined>;
  abstract compatRefresh(hash: string): Promise<CompatTokenRow | undefined>;

  static for(kind: DbKind, dataSource: DataSource): TokenLookup {
    return kind === 'sqlite' ? new SqliteTokenLookup(dataSource) : new PostgresTokenLookup(dataSource);
  }
}

interface SqliteStatement {
  get(...params: unknown[]): Record<string, unknown> | undefined;
}

class SqliteTokenLookup extends TokenLookup {
  private readonly accessStmt: SqliteStatement;
  private readonly refreshStmt: SqliteStatement;
  private readonly compatAccessStmt: SqliteStatement;
  private readonly compatRefreshStmt: SqliteStatement;
  constructor(ds: DataSource) {
    super();
    const conn = (ds.driver as unknown as { databaseConnection: { prepare(sql: string): SqliteStatement } }).databaseConnection;
    this.accessStmt = conn.prepare(query('access_tokens', 't.first_used_at', '?'));
    this.refreshStmt = conn.prepare(query('refresh_tokens', 't.consumed_at', '?'));
    this.compatAccessStmt = conn.prepare(compatQuery('access_token_hash', '?'));
    this.compatRefreshStmt = conn.prepare(compatQuery('refresh_token_hash', '?'));
  }
  async access(hash: string) {
    return toRow(this.accessStmt.get(hash));
  }
  async refresh(hash: string) {
    return toRow(this.refreshStmt.get(hash));
  }
  async compatAccess(hash: string) {
    return toRow(this.compatAccessStmt.get(hash)) as CompatTokenRow | undefined;
  }
  async compatRefresh(hash: string) {
    return toRow(this.compatRefreshStmt.get(hash)) as CompatTokenRow | undefined;
  }
}

interface PgPool {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

class PostgresTokenLookup extends TokenLookup {
  private readonly pool: PgPool;
  private readonly accessSql = query('access_tokens', 't.first_used_at', '$1');
  private readonly refreshSql = query('refresh_tokens', 't.consumed_at', '$1');
  private readonly compatAccessSql = compatQuery('access_token_hash', '$1');
  private readonly compatRefreshSql = compatQuery('refresh_token_hash', '$1');
  constructor(ds: DataSource) {
    super();
    this.pool = (ds.driver as unknown as { master: PgPool }).master;
  }
  async access(hash: string) {
    return toRow((await this.pool.query({ name: 'causeway_introspect_access', text: this.accessSql, values: [hash] })).rows[0]);
  }
  async refresh(hash: string) {
    return toRow((await this.pool.query({ name: 'causeway_introspect_refresh', text: this.refreshSql, values: [hash] })).rows[0]);
  }
  async compatAccess(hash: string) {
    return toRow((await this.pool.query({ name: 'causeway_introspect_compat_access', text: this.compatAccessSql, values: [hash] })).rows[0]) as CompatTokenRow | undefined;
  }
  async compatRefresh(hash: string) {
    return toRow((await this.pool.query({ name: 'causeway_introspect_compat_refresh', text: this.compatRefreshSql, values: [hash] })).rows[0]) as CompatTokenRow | undefined;
  }
}
