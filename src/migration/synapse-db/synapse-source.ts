import BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { SourceKind, SynapseAccessToken, SynapseDevice, SynapseExternalId, SynapsePageUser, SynapseThreepid, SynapseUserDetails } from './synapse-rows.js';
import {
  devicesSql,
  externalIdsSql,
  OTHER_SERVER_SQL,
  PAGE_BOUNDS_SQL,
  PROVIDER_COUNTS_SQL,
  SCHEMA_VERSION_SQL,
  SYNAPSE_SCHEMA_VERSION,
  threepidsSql,
  tokensSql,
  USER_COUNT_SQL,
  usersPageSql,
  type Selection,
} from './synapse-queries.js';

/** The Synapse database cannot be read as expected: the message is for the operator. */
export class SynapseSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SynapseSourceError';
  }
}

type Row = Record<string, unknown>;

/**
 * Read-only access to one snapshot: every page of a run sees the same database state. `all` calls
 * made at the same time run in parallel when the source has several connections.
 */
interface Connection {
  readonly parallelism: number;
  all(sql: string, params: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';
const int = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * Reads Synapse's database (PostgreSQL or SQLite) for `causeway import synapse`. Never writes: the
 * PostgreSQL transaction is READ ONLY, the SQLite file is opened read-only. The whole run reads one
 * snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite), so a run while Synapse
 * is live sees a consistent state; nothing is locked against Synapse's writes on PostgreSQL.
 */
export class SynapseSource {
  private constructor(
    private readonly conn: Connection,
    readonly kind: SourceKind,
  ) {}

  /** How many pages may be read at once. */
  get parallelism(): number {
    return this.conn.parallelism;
  }

  /** `postgres://…` / `postgresql://…` (libpq-style; `?options=-c search_path=…` selects a schema) or `sqlite:///path/homeserver.db`. */
  static async open(url: string): Promise<SynapseSource> {
    if (url.startsWith('sqlite:')) return new SynapseSource(openSqlite(url), 'sqlite');
    if (!/^postgres(ql)?:\/\//.test(url)) throw new SynapseSourceError('--synapse-database: expected postgres://… or sqlite:///path/homeserver.db');
    return new SynapseSource(await openPostgres(url), 'postgres');
  }

  /** Refuses anything but Synapse's schema version 94, naming what it found. */
  async checkSchemaVersion(): Promise<number> {
    let rows: Row[];
    try {
      rows = await this.conn.all(SCHEMA_VERSION_SQL, []);
    } catch {
      throw new SynapseSourceError('not a Synapse database: it has no schema_version table');
    }
    const found = rows.length ? Number(rows[0]!.version) : undefined;
    if (found !== SYNAPSE_SCHEMA_VERSION) {
      throw new SynapseSourceError(
        `Synapse's schema_version is ${found ?? 'empty'}; this import reads schema version ${SYNAPSE_SCHEMA_VERSION} (Synapse 1.157 and later of that schema). ` +
          (found !== undefined && found < SYNAPSE_SCHEMA_VERSION ? 'Upgrade Synapse first, let it migrate its database, then import.' : 'Use the Causeway release that reads this schema version.'),
      );
    }
    return found;
  }

  /** What must be known before anything is written: external ids per auth_provider, users of another server. */
  async preflight(serverName: string): Promise<{ externalIdsByProvider: Record<string, number>; otherServerUsers: number }> {
    const providers = await this.conn.all(PROVIDER_COUNTS_SQL, []);
    const suffix = `:${serverName}`;
    const other = await this.conn.all(OTHER_SERVER_SQL, [suffix, suffix]);
    return {
      externalIdsByProvider: Object.fromEntries(providers.map((r) => [String(r.auth_provider), Number(r.n)])),
      otherServerUsers: Number(other[0]!.n),
    };
  }

  async userCount(): Promise<number> {
    return Number((await this.conn.all(USER_COUNT_SQL, []))[0]!.n);
  }

  /** The last user id of every page of `pageSize` users but the last page, in `users.name` order. */
  async pageBounds(pageSize: number): Promise<string[]> {
    return (await this.conn.all(PAGE_BOUNDS_SQL, [pageSize])).map((r) => String(r.name));
  }

  /** The users after `after` ('' for the first page) up to `upTo` (undefined: to the end), with their fingerprints. */
  async usersPage(after: string, upTo: string | undefined): Promise<SynapsePageUser[]> {
    const sql = usersPageSql(this.kind, upTo !== undefined);
    return (await this.conn.all(sql, upTo !== undefined ? [after, upTo] : [after])).map((r) => ({
      fingerprint: String(r.fingerprint),
      user: {
        name: String(r.name),
        hasPassword: bool(r.has_password),
        creationTs: int(r.creation_ts),
        admin: bool(r.admin),
        isGuest: bool(r.is_guest),
        appserviceId: str(r.appservice_id),
        userType: str(r.user_type),
        deactivated: bool(r.deactivated),
        shadowBanned: bool(r.shadow_banned),
        locked: bool(r.locked),
        suspended: bool(r.suspended),
        displayname: str(r.displayname),
      },
    }));
  }

  /** The rows of the other tables for user ids from `first` to `last` (a page's range), grouped by user id. */
  details(first: string, last: string): Promise<Map<string, SynapseUserDetails>> {
    return this.read('range', [first, last]);
  }

  /** The rows of the other tables for these user ids, grouped by user id. */
  detailsOf(userIds: string[]): Promise<Map<string, SynapseUserDetails>> {
    return this.read('list', [this.kind === 'postgres' ? userIds : JSON.stringify(userIds)]);
  }

  private async read(sel: Selection, params: unknown[]): Promise<Map<string, SynapseUserDetails>> {
    const externalIds = await this.conn.all(externalIdsSql(this.kind, sel), params);
    const threepids = await this.conn.all(threepidsSql(this.kind, sel), params);
    const devices = await this.conn.all(devicesSql(this.kind, sel), params);
    const tokens = await this.conn.all(tokensSql(this.kind, sel), params);
    const out = new Map<string, SynapseUserDetails>();
    const of = (userId: string) => {
      let d = out.get(userId);
      if (!d) out.set(userId, (d = { externalIds: [], threepids: [], devices: [], tokens: [] }));
      return d;
    };
    for (const r of externalIds) {
      const row: SynapseExternalId = { userId: String(r.user_id), authProvider: String(r.auth_provider), externalId: String(r.external_id) };
      of(row.userId).externalIds.push(row);
    }
    for (const r of threepids) {
      const row: SynapseThreepid = { userId: String(r.user_id), medium: String(r.medium), address: String(r.address), addedAt: Number(r.added_at) };
      of(row.userId).threepids.push(row);
    }
    for (const r of devices) {
      const row: SynapseDevice = { userId: String(r.user_id), deviceId: String(r.device_id), displayName: str(r.display_name), hidden: bool(r.hidden) };
      of(row.userId).devices.push(row);
    }
    const seen = new Set<number>();
    for (const r of tokens) {
      const id = Number(r.id);
      // A successor refresh token with several access tokens would repeat the row: one is enough.
      if (seen.has(id)) continue;
      seen.add(id);
      const row: SynapseAccessToken = {
        id,
        userId: String(r.user_id),
        deviceId: str(r.device_id),
        token: String(r.token),
        validUntilMs: int(r.valid_until_ms),
        puppet: bool(r.puppet),
        lastValidated: int(r.last_validated),
        refreshToken: str(r.refresh_token),
        refreshExpiryTs: int(r.refresh_expiry_ts),
        refreshSuperseded: bool(r.next_refreshed) || bool(r.next_used),
      };
      of(row.userId).tokens.push(row);
    }
    return out;
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

function openSqlite(url: string): Connection {
  const file = resolve(url.replace(/^sqlite:(\/\/)?/, ''));
  if (!existsSync(file)) throw new SynapseSourceError(`--synapse-database: no such file: ${file}`);
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  // One read transaction for the whole run: every page reads the same snapshot.
  db.exec('BEGIN');
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    parallelism: 1,
    async all(sql, params) {
      let st = cache.get(sql);
      if (!st) cache.set(sql, (st = db.prepare(sql.replace(/\$\d+/g, '?'))));
      return st.all(...params) as Row[];
    },
    async close() {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    },
  };
}

/** Connections reading one snapshot at once: the database works on two pages while the importer plans and writes. */
const POSTGRES_READERS = 2;

async function openPostgres(url: string): Promise<Connection> {
  const connect = async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'causeway-import' });
    try {
      await client.connect();
    } catch (e) {
      throw new SynapseSourceError(`cannot connect to the Synapse database: ${(e as Error).message}`);
    }
    return client;
  };
  const first = await connect();
  await first.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  const clients = [first];
  // The others read the first one's snapshot (it stays open for the whole run).
  const snapshot = String((await first.query('SELECT pg_export_snapshot() AS s')).rows[0].s);
  for (let i = 1; i < POSTGRES_READERS; i++) {
    const c = await connect();
    clients.push(c);
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    await c.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
  }
  const idle = [...clients];
  const waiting: ((c: pg.Client) => void)[] = [];
  const acquire = () => (idle.length ? Promise.resolve(idle.pop()!) : new Promise<pg.Client>((r) => waiting.push(r)));
  const release = (c: pg.Client) => {
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
  };
  return {
    parallelism: clients.length,
    async all(sql, params) {
      const c = await acquire();
      try {
        return (await c.query({ text: sql, values: params })).rows as Row[];
      } finally {
        release(c);
      }
    },
    async close() {
      for (const c of clients) {
        await c.query('ROLLBACK').catch(() => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
