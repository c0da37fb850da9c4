import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { DbKind } from '../../storage/data-source.js';
import { LookupBatcher } from './lookup-batcher.js';

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

/** The columns both dialects select, in this order (statements return rows as arrays). */
const COLUMNS = `t.id, t.created_at, t.expires_at, t.revoked_at, %USED% AS used_at, s.id AS session_id, s.client_id, s.device_id, s.scope,
  s.finished_at, s.last_active_at, s.user_id, u.localpart, u.locked_at, u.deactivated_at, t.token_hash`;
const query = (table: 'access_tokens' | 'refresh_tokens', used: string, where: string) =>
  `SELECT ${COLUMNS.replace('%USED%', used)} FROM ${table} t JOIN oauth2_sessions s ON s.id = t.session_id LEFT JOIN users u ON u.id = s.user_id WHERE t.token_hash ${where}`;

/** A compat token (`mct_`/`mcr_`, the MSC3824 layer) and its session: no client, no scope (both are implied). */
export interface CompatTokenRow extends Omit<TokenRow, 'client_id' | 'scope' | 'device_id'> {
  device_id: string;
  /** A session imported from Synapse for a Synapse admin (its tokens carried admin rights before the switch). */
  synapse_admin: boolean;
}

const COMPAT_COLUMNS = (column: string) => `t.id, t.created_at, t.expires_at, t.revoked_at, t.refresh_consumed_at AS used_at, s.id AS session_id, s.device_id,
  s.synapse_admin, s.finished_at, s.last_active_at, s.user_id, u.localpart, u.locked_at, u.deactivated_at, t.${column}`;
const compatQuery = (column: 'access_token_hash' | 'refresh_token_hash', where: string) =>
  `SELECT ${COMPAT_COLUMNS(column)} FROM compat_tokens t JOIN compat_sessions s ON s.id = t.session_id LEFT JOIN users u ON u.id = s.user_id WHERE t.${column} ${where}`;

type RawRow = unknown[];
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
/** The hash a raw row answers for: its last column. */
const hashOf = (r: RawRow) => r[r.length - 1] as string;

/** An access/refresh row from its array form (COLUMNS order), one object and no spreads. */
function toRow(r: RawRow | undefined): TokenRow | undefined {
  if (!r) return undefined;
  return {
    id: r[0] as string,
    created_at: Number(r[1]),
    expires_at: num(r[2]),
    revoked_at: num(r[3]),
    used_at: num(r[4]),
    session_id: r[5] as string,
    client_id: r[6] as string,
    device_id: r[7] as string | null,
    scope: r[8] as string,
    finished_at: num(r[9]),
    last_active_at: num(r[10]),
    user_id: r[11] as string | null,
    localpart: r[12] as string | null,
    locked_at: num(r[13]),
    deactivated_at: num(r[14]),
  };
}

/** A compat row from its array form (COMPAT_COLUMNS order). */
function toCompatRow(r: RawRow | undefined): CompatTokenRow | undefined {
  if (!r) return undefined;
  return {
    id: r[0] as string,
    created_at: Number(r[1]),
    expires_at: num(r[2]),
    revoked_at: num(r[3]),
    used_at: num(r[4]),
    session_id: r[5] as string,
    device_id: r[6] as string,
    synapse_admin: r[7] === true || r[7] === 1,
    finished_at: num(r[8]),
    last_active_at: num(r[9]),
    user_id: r[10] as string | null,
    localpart: r[11] as string | null,
    locked_at: num(r[12]),
    deactivated_at: num(r[13]),
  };
}

/**
 * The introspection hot path talks to the driver directly (docs/decisions/0004): TypeORM's query
 * runner costs more than the lookup itself. Reads only; every write still goes through
 * Database.transaction().
 */
export abstract class TokenLookup {
  abstract access(hash: string): Promise<TokenRow | undefined>;
  abstract refresh(hash: string): Promise<TokenRow | undefined>;
  /** Compat tokens: `used_at` is the refresh token's consumption. */
  abstract compatAccess(hash: string): Promise<CompatTokenRow | undefined>;
  abstract compatRefresh(hash: string): Promise<CompatTokenRow | undefined>;
  /** Releases what the lookup holds of its own (PostgreSQL: its connections). */
  async close(): Promise<void> {}

  static for(kind: DbKind, dataSource: DataSource): TokenLookup {
    return kind === 'sqlite' ? new SqliteTokenLookup(dataSource) : new PostgresTokenLookup(dataSource);
  }
}

interface SqliteStatement {
  get(...params: unknown[]): unknown;
  raw(on: boolean): SqliteStatement;
}

/**
 * SQLite: synchronous prepared statements (better-sqlite3) returning arrays (no per-row object
 * with column names to build). Nothing to batch: a read is a function call, not a round trip.
 */
class SqliteTokenLookup extends TokenLookup {
  private readonly accessStmt: SqliteStatement;
  private readonly refreshStmt: SqliteStatement;
  private readonly compatAccessStmt: SqliteStatement;
  private readonly compatRefreshStmt: SqliteStatement;
  constructor(ds: DataSource) {
    super();
    const conn = (ds.driver as unknown as { databaseConnection: { prepare(sql: string): SqliteStatement } }).databaseConnection;
    const prepare = (sql: string) => conn.prepare(sql).raw(true);
    this.accessStmt = prepare(query('access_tokens', 't.first_used_at', '= ?'));
    this.refreshStmt = prepare(query('refresh_tokens', 't.consumed_at', '= ?'));
    this.compatAccessStmt = prepare(compatQuery('access_token_hash', '= ?'));
    this.compatRefreshStmt = prepare(compatQuery('refresh_token_hash', '= ?'));
  }
  async access(hash: string) {
    return toRow(this.accessStmt.get(hash) as RawRow | undefined);
  }
  async refresh(hash: string) {
    return toRow(this.refreshStmt.get(hash) as RawRow | undefined);
  }
  async compatAccess(hash: string) {
    return toCompatRow(this.compatAccessStmt.get(hash) as RawRow | undefined);
  }
  async compatRefresh(hash: string) {
    return toCompatRow(this.compatRefreshStmt.get(hash) as RawRow | undefined);
  }
}

/** Connections of the lookup's own pool: a few batches at the database at once keep it busy while the machine is too. */
const LOOKUP_CONNECTIONS = 4;

/**
 * PostgreSQL: lookups gathered per event-loop turn into one named prepared statement
 * (`token_hash = ANY($1)`, lookup-batcher.ts), on a small pool of the lookup's own, so that
 * introspection never waits behind the main pool's transactions (sign-ins, sign-outs) nor they
 * behind it. Rows come back as arrays.
 */
class PostgresTokenLookup extends TokenLookup {
  private readonly pool: pg.Pool;
  private readonly accessBatch: LookupBatcher<RawRow>;
  private readonly refreshBatch: LookupBatcher<RawRow>;
  private readonly compatAccessBatch: LookupBatcher<RawRow>;
  private readonly compatRefreshBatch: LookupBatcher<RawRow>;
  constructor(ds: DataSource) {
    super();
    const main = (ds.driver as unknown as { master: { options: pg.PoolConfig } }).master;
    this.pool = new pg.Pool({ ...main.options, max: LOOKUP_CONNECTIONS });
    // A connection that fails while idle (server restart) is dropped by the pool; the next batch opens another.
    this.pool.on('error', () => undefined);
    const batcher = (name: string, text: string) =>
      new LookupBatcher<RawRow>(async (keys) => {
        const { rows } = await this.pool.query<RawRow>({ name, text, values: [keys], rowMode: 'array' });
        const byHash = new Map<string, RawRow>();
        for (const r of rows) byHash.set(hashOf(r), r);
        return byHash;
      }, LOOKUP_CONNECTIONS);
    this.accessBatch = batcher('causeway_introspect_access_batch', query('access_tokens', 't.first_used_at', '= ANY($1::varchar[])'));
    this.refreshBatch = batcher('causeway_introspect_refresh_batch', query('refresh_tokens', 't.consumed_at', '= ANY($1::varchar[])'));
    this.compatAccessBatch = batcher('causeway_introspect_compat_access_batch', compatQuery('access_token_hash', '= ANY($1::varchar[])'));
    this.compatRefreshBatch = batcher('causeway_introspect_compat_refresh_batch', compatQuery('refresh_token_hash', '= ANY($1::varchar[])'));
  }
  async access(hash: string) {
    return toRow(await this.accessBatch.get(hash));
  }
  async refresh(hash: string) {
    return toRow(await this.refreshBatch.get(hash));
  }
  async compatAccess(hash: string) {
    return toCompatRow(await this.compatAccessBatch.get(hash));
  }
  async compatRefresh(hash: string) {
    return toCompatRow(await this.compatRefreshBatch.get(hash));
  }
  override async close() {
    await this.pool.end();
  }
}
