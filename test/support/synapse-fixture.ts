import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { generateSynapseToken } from '../../src/crypto/synapse-token-format.js';
import { ROOT } from './causeway.js';
import { PG_URL, type DbKind } from './databases.js';

/**
 * A Synapse database for tests: the tables `causeway import synapse` reads, created from
 * test/fixtures/synapse/schema-94.{postgres,sqlite}.sql (Synapse's own column names and types at
 * schema version 94), in a fresh PostgreSQL schema or SQLite file. Rows are written as Synapse
 * writes them (0/1 smallints, seconds in users.creation_ts, milliseconds elsewhere).
 */
export interface SynapseTestDatabase {
  kind: DbKind;
  /** What `--synapse-database` takes. */
  url: string;
  run(sql: string, params?: unknown[]): Promise<void>;
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Rows per table (to show a command left the database unchanged). */
  counts(): Promise<Record<string, number>>;
  drop(): Promise<void>;
}

export const SYNAPSE_TABLES = ['schema_version', 'users', 'user_external_ids', 'devices', 'access_tokens', 'refresh_tokens', 'user_threepids', 'profiles'];

export function synapseDdl(kind: DbKind): string {
  return readFileSync(join(ROOT, `test/fixtures/synapse/schema-94.${kind}.sql`), 'utf8');
}

export async function createSynapseDatabase(kind: DbKind, dir: string, schemaVersion = 94): Promise<SynapseTestDatabase> {
  let db: SynapseTestDatabase;
  if (kind === 'sqlite') {
    const file = join(dir, `homeserver-${randomBytes(4).toString('hex')}.db`);
    const conn = new BetterSqlite3(file);
    conn.exec(synapseDdl('sqlite'));
    const bind = (params: unknown[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
    db = {
      kind,
      url: `sqlite://${file}`,
      async run(sql, params = []) {
        conn.prepare(sql.replace(/\$\d+/g, '?')).run(...bind(params));
      },
      async all<T>(sql: string, params: unknown[] = []) {
        return conn.prepare(sql.replace(/\$\d+/g, '?')).all(...bind(params)) as T[];
      },
      counts: () => countRows(db),
      async drop() {
        conn.close();
      },
    };
  } else {
    const schema = `syn_${randomBytes(6).toString('hex')}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query(synapseDdl('postgres'));
    db = {
      kind,
      url: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      async run(sql, params = []) {
        await client.query(sql, params);
      },
      async all<T>(sql: string, params: unknown[] = []) {
        return (await client.query(sql, params)).rows as T[];
      },
      counts: () => countRows(db),
      async drop() {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  }
  await db.run('INSERT INTO schema_version (version, upgraded) VALUES ($1, $2)', [schemaVersion, true]);
  return db;
}

async function countRows(db: SynapseTestDatabase): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of SYNAPSE_TABLES) out[t] = Number((await db.all<{ n: number | string }>(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
  return out;
}

// --- Writing rows as Synapse does -------------------------------------------------------------

export interface FixtureUser {
  localpart: string;
  password?: boolean;
  admin?: boolean;
  guest?: boolean;
  appservice?: string;
  userType?: string;
  deactivated?: boolean;
  locked?: boolean;
  shadowBanned?: boolean;
  displayname?: string;
  emails?: string[];
  /** auth_provider → external_id */
  externalIds?: Record<string, string>;
  creationTs?: number;
}

let nextTokenId = 1;

export class SynapseWriter {
  constructor(
    readonly db: SynapseTestDatabase,
    readonly serverName = 'example.test',
  ) {}

  userId(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  async user(u: FixtureUser): Promise<string> {
    const id = this.userId(u.localpart);
    await this.db.run(
      `INSERT INTO users (name, password_hash, creation_ts, admin, is_guest, appservice_id, user_type, deactivated, shadow_banned, locked, suspended)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        u.password ? '$2b$12$0123456789012345678901uFakeBcryptHashForTestsOnlyxxxxxx' : null,
        u.creationTs ?? 1_700_000_000,
        u.admin ? 1 : 0,
        u.guest ? 1 : 0,
        u.appservice ?? null,
        u.userType ?? null,
        u.deactivated ? 1 : 0,
        u.shadowBanned ?? null,
        u.locked ?? false,
        false,
      ],
    );
    await this.db.run('INSERT INTO profiles (user_id, displayname, full_user_id) VALUES ($1, $2, $3)', [u.localpart, u.displayname ?? u.localpart, id]);
    let added = 1_700_000_000_000;
    for (const email of u.emails ?? []) {
      await this.db.run('INSERT INTO user_threepids (user_id, medium, address, validated_at, added_at) VALUES ($1, $2, $3, $4, $5)', [id, 'email', email, added, added++]);
    }
    for (const [provider, external] of Object.entries(u.externalIds ?? {})) {
      await this.db.run('INSERT INTO user_external_ids (auth_provider, external_id, user_id) VALUES ($1, $2, $3)', [provider, external, id]);
    }
    return id;
  }

  async device(localpart: string, deviceId: string, opts: { displayName?: string; hidden?: boolean } = {}): Promise<void> {
    await this.db.run('INSERT INTO devices (user_id, device_id, display_name, last_seen, ip, user_agent, hidden) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      this.userId(localpart),
      deviceId,
      opts.displayName ?? null,
      1_700_000_000_000,
      '127.0.0.1',
      'Element',
      opts.hidden ?? false,
    ]);
  }

  /** A non-refreshable access token, as Synapse's /login without refresh_token writes it. */
  async accessToken(localpart: string, deviceId: string | null, opts: { validUntilMs?: number; puppetsUserId?: string; token?: string } = {}): Promise<string> {
    const token = opts.token ?? generateSynapseToken('synapse_access', localpart, randomLetters(20));
    await this.db.run('INSERT INTO access_tokens (id, user_id, device_id, token, valid_until_ms, puppets_user_id, last_validated, refresh_token_id, used) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      nextTokenId++,
      this.userId(localpart),
      deviceId,
      token,
      opts.validUntilMs ?? null,
      opts.puppetsUserId ?? null,
      1_700_000_000_000,
      null,
      null,
    ]);
    return token;
  }

  /**
   * A refreshable pair, as Synapse's /login with refresh_token: true writes it. `successorOf`: the
   * pair this one replaced (its refresh token gets next_token_id), as /refresh writes it.
   */
  async refreshablePair(
    localpart: string,
    deviceId: string,
    opts: { validUntilMs: number; used?: boolean; successorOf?: number } = { validUntilMs: Date.now() + 300_000 },
  ): Promise<{ accessToken: string; refreshToken: string; refreshId: number }> {
    const refreshId = nextTokenId++;
    const refreshToken = generateSynapseToken('synapse_refresh', localpart, randomLetters(20));
    await this.db.run('INSERT INTO refresh_tokens (id, user_id, device_id, token, next_token_id, expiry_ts, ultimate_session_expiry_ts) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      refreshId,
      this.userId(localpart),
      deviceId,
      refreshToken,
      null,
      null,
      null,
    ]);
    if (opts.successorOf !== undefined) await this.db.run('UPDATE refresh_tokens SET next_token_id = $1 WHERE id = $2', [refreshId, opts.successorOf]);
    const accessToken = generateSynapseToken('synapse_access', localpart, randomLetters(20));
    await this.db.run('INSERT INTO access_tokens (id, user_id, device_id, token, valid_until_ms, puppets_user_id, last_validated, refresh_token_id, used) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      nextTokenId++,
      this.userId(localpart),
      deviceId,
      accessToken,
      opts.validUntilMs,
      null,
      1_700_000_000_000,
      refreshId,
      opts.used ?? false,
    ]);
    return { accessToken, refreshToken, refreshId };
  }
}

function randomLetters(n: number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += letters[bytes[i]! % letters.length];
  return s;
}

/** Causeway providers' synapse_idp_id in the standard fixture. */
export const FIXTURE_IDPS = { oidc: 'oidc-keycloak', saml: 'saml', cas: 'cas' } as const;

/** What the standard fixture holds, for assertions. */
export interface StandardFixture {
  tokens: {
    alicePhone: string;
    aliceExpired: string;
    aliceLaptop: { accessToken: string; refreshToken: string };
    aliceLaptopOld: { accessToken: string; refreshToken: string };
    bobDesk: string;
    cdodgson: string;
    carol: string;
    dave: string;
    davePuppet: string;
    erin: string;
    frank: string;
    guest: string;
  };
}

/**
 * The fixture the issue asks for: SSO users of an OIDC (alice, bob, erin), a SAML (cdodgson,
 * frank) and a CAS provider (carol), a password-only user (dave), a deactivated (erin), a locked
 * (frank) and an admin user (bob), a bot, a guest, an appservice user; devices with and without
 * tokens and a hidden one; expiring, expired and refreshable tokens (one pair superseded); a puppet token.
 */
export async function seedStandardFixture(db: SynapseTestDatabase): Promise<StandardFixture> {
  const w = new SynapseWriter(db);
  const soon = Date.now() + 3_600_000;
  await w.user({ localpart: 'alice', displayname: 'Alice Liddell', emails: ['alice@example.org', 'alice@old.example.org'], externalIds: { [FIXTURE_IDPS.oidc]: 'alice' } });
  await w.device('alice', 'ALICEPHONE', { displayName: 'Element on iPhone' });
  await w.device('alice', 'ALICELAPTOP', { displayName: 'Element Desktop' });
  const alicePhone = await w.accessToken('alice', 'ALICEPHONE');
  const aliceExpired = await w.accessToken('alice', 'ALICEPHONE', { validUntilMs: Date.now() - 60_000 });
  // ALICELAPTOP refreshed once: the old pair's successor was used, so Synapse refuses the old refresh token.
  const old = await w.refreshablePair('alice', 'ALICELAPTOP', { validUntilMs: soon });
  const laptop = await w.refreshablePair('alice', 'ALICELAPTOP', { validUntilMs: soon, used: true, successorOf: old.refreshId });

  await w.user({ localpart: 'bob', admin: true, displayname: 'Bob', emails: ['bob@example.org'], externalIds: { [FIXTURE_IDPS.oidc]: 'bob' } });
  await w.device('bob', 'BOBDESK');
  const bobDesk = await w.accessToken('bob', 'BOBDESK');

  await w.user({ localpart: 'cdodgson', displayname: 'Charles Dodgson', externalIds: { [FIXTURE_IDPS.saml]: 'cdodgson' } });
  await w.device('cdodgson', 'CDPHONE');
  const cdodgson = await w.accessToken('cdodgson', 'CDPHONE', { validUntilMs: soon });

  await w.user({ localpart: 'carol', displayname: 'Carol', externalIds: { [FIXTURE_IDPS.cas]: 'carol' } });
  await w.device('carol', 'CAROLPHONE');
  await w.device('carol', 'CAROLTABLET');
  await w.device('carol', 'mXCrossSigningKeyId', { hidden: true });
  const carol = await w.accessToken('carol', 'CAROLPHONE');

  await w.user({ localpart: 'dave', password: true, displayname: 'Dave' });
  await w.device('dave', 'DAVEPHONE');
  const dave = await w.accessToken('dave', 'DAVEPHONE');
  const davePuppet = await w.accessToken('dave', null, { puppetsUserId: w.userId('bob') });

  await w.user({ localpart: 'erin', deactivated: true, displayname: 'Erin', externalIds: { [FIXTURE_IDPS.oidc]: 'erin' } });
  await w.device('erin', 'ERINPHONE');
  const erin = await w.accessToken('erin', 'ERINPHONE');

  await w.user({ localpart: 'frank', locked: true, displayname: 'Frank', externalIds: { [FIXTURE_IDPS.saml]: 'frank' } });
  await w.device('frank', 'FRANKPHONE');
  const frank = await w.accessToken('frank', 'FRANKPHONE');

  await w.user({ localpart: 'helperbot', password: true, userType: 'bot' });

  await w.user({ localpart: '1234', guest: true });
  await w.device('1234', 'GUESTDEV');
  const guest = await w.accessToken('1234', 'GUESTDEV');

  await w.user({ localpart: 'whatsapp_4915', appservice: 'whatsapp' });

  return {
    tokens: {
      alicePhone,
      aliceExpired,
      aliceLaptop: { accessToken: laptop.accessToken, refreshToken: laptop.refreshToken },
      aliceLaptopOld: { accessToken: old.accessToken, refreshToken: old.refreshToken },
      bobDesk,
      cdodgson,
      carol,
      dave,
      davePuppet,
      erin,
      frank,
      guest,
    },
  };
}
