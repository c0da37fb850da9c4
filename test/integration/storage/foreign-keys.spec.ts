import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, openDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../../../src/storage/migrations/index.js';
import { freshDatabase, TEST_DBS, type DbKind, type TestDatabase } from '../../support/databases.js';

/**
 * The foreign keys of the ForeignKeys migration, on both databases: a row naming a parent that
 * does not exist is refused, deletes do what the retention sweeper and the sign-out paths expect,
 * and the migration itself cleans up orphans an older database may hold before adding them.
 */
const T = 1_796_000_000_000;
const id = (tag: string) => tag.toUpperCase().padEnd(26, '0');

/** Plain SQL with `$n` placeholders on both dialects. */
function sqlOf(ds: DataSource, kind: DbKind) {
  return async (text: string, params: readonly unknown[] = []) => {
    const q = kind === 'sqlite' ? text.replace(/\$\d+/g, '?') : text;
    return (await ds.query(q, [...params])) as Record<string, unknown>[];
  };
}

const insertUser = (uid: string) => ['INSERT INTO users (id, localpart, created_at) VALUES ($1, $2, $3)', [uid, `lp-${uid.toLowerCase()}`, T]] as const;

/** Every foreign key: the child row to insert, given the id its parent reference should carry. */
const CHILDREN: { fk: string; insert: (parent: string) => readonly [string, readonly unknown[]] }[] = [
  { fk: 'upstream_links.user_id → users', insert: (p) => ['INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('l1'), 'corp', 'alice', p, T]] },
  { fk: 'user_emails.user_id → users', insert: (p) => ['INSERT INTO user_emails (id, user_id, email, created_at) VALUES ($1, $2, $3, $4)', [id('e1'), p, 'a@example.com', T]] },
  { fk: 'consents.user_id → users', insert: (p) => ['INSERT INTO consents (id, user_id, client_id, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)', [id('c1'), p, 'client', '[]', T, T]] },
  {
    fk: 'authorization_grants.user_id → users',
    insert: (p) => [
      'INSERT INTO authorization_grants (id, code_hash, client_id, redirect_uri, scope, code_challenge, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [id('g1'), 'h'.repeat(64), 'client', 'https://app/cb', 'openid', 'x'.repeat(43), p, T, T + 60_000],
    ],
  },
  {
    fk: 'device_codes.user_id → users',
    insert: (p) => [
      'INSERT INTO device_codes (id, device_code_hash, user_code, client_id, scope, state, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [id('d1'), 'd'.repeat(64), 'ABCD-EFGH', 'client', 'openid', 'approved', p, T, T + 60_000],
    ],
  },
  { fk: 'synapse_import_users.user_id → users', insert: (p) => ['INSERT INTO synapse_import_users (synapse_user_id, user_id, digest, updated_at) VALUES ($1, $2, $3, $4)', ['@a:hs', p, 'f'.repeat(64), T]] },
  { fk: 'browser_sessions.user_id → users', insert: (p) => ['INSERT INTO browser_sessions (id, user_id, provider_id, created_at, authenticated_at) VALUES ($1, $2, $3, $4, $5)', [id('b9'), p, 'corp', T, T]] },
  { fk: 'upstream_sessions.user_id → users', insert: (p) => ['INSERT INTO upstream_sessions (id, provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('us9'), 'corp', 'alice', p, T]] },
  {
    fk: 'upstream_sessions.browser_session_id → browser_sessions',
    insert: (p) => ['INSERT INTO upstream_sessions (id, provider_id, subject, user_id, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [id('us8'), 'corp', 'alice', id('u1'), p, T]],
  },
  {
    fk: 'oauth2_sessions.user_id → users',
    insert: (p) => ['INSERT INTO oauth2_sessions (id, user_id, client_id, scope, grant_type, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [id('o9'), p, 'client', 'openid', 'authorization_code', T]],
  },
  {
    fk: 'oauth2_sessions.browser_session_id → browser_sessions',
    insert: (p) => [
      'INSERT INTO oauth2_sessions (id, user_id, client_id, scope, grant_type, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [id('o8'), id('u1'), 'client', 'openid', 'authorization_code', p, T],
    ],
  },
  { fk: 'compat_sessions.user_id → users', insert: (p) => ['INSERT INTO compat_sessions (id, user_id, device_id, created_at) VALUES ($1, $2, $3, $4)', [id('cs9'), p, 'DEV9', T]] },
  {
    fk: 'compat_sessions.browser_session_id → browser_sessions',
    insert: (p) => ['INSERT INTO compat_sessions (id, user_id, device_id, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('cs8'), id('u1'), 'DEV8', p, T]],
  },
  { fk: 'access_tokens.session_id → oauth2_sessions', insert: (p) => ['INSERT INTO access_tokens (id, token_hash, session_id, created_at) VALUES ($1, $2, $3, $4)', [id('at9'), 'a'.repeat(64), p, T]] },
  {
    fk: 'refresh_tokens.session_id → oauth2_sessions',
    insert: (p) => ['INSERT INTO refresh_tokens (id, token_hash, session_id, access_token_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('rt9'), 'r'.repeat(64), p, id('at1'), T]],
  },
  { fk: 'compat_tokens.session_id → compat_sessions', insert: (p) => ['INSERT INTO compat_tokens (id, session_id, access_token_hash, created_at) VALUES ($1, $2, $3, $4)', [id('ct9'), p, 'c'.repeat(64), T]] },
];

/** The parent each kind of reference names in the tests: all exist after `seedParents`. */
const PARENT_OF: Record<string, string> = { users: id('u1'), browser_sessions: id('b1'), oauth2_sessions: id('o1'), compat_sessions: id('cs1') };

async function seedParents(sql: ReturnType<typeof sqlOf>): Promise<void> {
  await sql(...insertUser(id('u1')));
  await sql('INSERT INTO browser_sessions (id, user_id, provider_id, created_at, authenticated_at) VALUES ($1, $2, $3, $4, $5)', [id('b1'), id('u1'), 'corp', T, T]);
  await sql('INSERT INTO oauth2_sessions (id, user_id, client_id, scope, grant_type, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    id('o1'),
    id('u1'),
    'client',
    'openid',
    'authorization_code',
    id('b1'),
    T,
  ]);
  await sql('INSERT INTO compat_sessions (id, user_id, device_id, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('cs1'), id('u1'), 'DEV1', id('b1'), T]);
}

const count = async (sql: ReturnType<typeof sqlOf>, table: string, where = '1 = 1', params: unknown[] = []) => Number((await sql(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params))[0]!.n);

describe.each(TEST_DBS)('foreign keys on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-fk-'));
  let tdb: TestDatabase;
  let ds: DataSource;
  let sql: ReturnType<typeof sqlOf>;

  beforeAll(async () => {
    tdb = await freshDatabase(kind, dir);
    ds = await openDataSource({ url: tdb.url, schema: tdb.schema });
    await runMigrations(ds);
    sql = sqlOf(ds, kind);
    await seedParents(sql);
  });
  afterAll(async () => {
    await ds?.destroy();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CHILDREN)('$fk refuses an orphan row and accepts one whose parent exists', async ({ fk, insert }) => {
    const parentTable = fk.split('→ ')[1]!;
    const [text, orphanParams] = insert(id('missing'));
    await expect(sql(text, orphanParams)).rejects.toThrow(/foreign key/i);
    const [, params] = insert(PARENT_OF[parentTable]!);
    await sql(text, params);
    const table = fk.split('.')[0]!;
    const key = table === 'synapse_import_users' ? 'synapse_user_id' : 'id';
    await sql(`DELETE FROM ${table} WHERE ${key} = $1`, [params[0]]);
  });

  it('deleting a session deletes its tokens; deleting a browser session forgets it in the sessions it gave birth to and deletes its upstream session', async () => {
    await sql(...insertUser(id('u2')));
    await sql('INSERT INTO browser_sessions (id, user_id, provider_id, created_at, authenticated_at) VALUES ($1, $2, $3, $4, $5)', [id('b2'), id('u2'), 'corp', T, T]);
    await sql('INSERT INTO upstream_sessions (id, provider_id, subject, user_id, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [id('us2'), 'corp', 'bob', id('u2'), id('b2'), T]);
    await sql('INSERT INTO oauth2_sessions (id, user_id, client_id, scope, grant_type, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id('o2'),
      id('u2'),
      'client',
      'openid',
      'authorization_code',
      id('b2'),
      T,
    ]);
    await sql('INSERT INTO compat_sessions (id, user_id, device_id, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('cs2'), id('u2'), 'DEV2', id('b2'), T]);
    await sql('INSERT INTO access_tokens (id, token_hash, session_id, created_at) VALUES ($1, $2, $3, $4)', [id('at2'), '2'.repeat(64), id('o2'), T]);
    await sql('INSERT INTO refresh_tokens (id, token_hash, session_id, access_token_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('rt2'), '3'.repeat(64), id('o2'), id('at2'), T]);
    await sql('INSERT INTO compat_tokens (id, session_id, access_token_hash, created_at) VALUES ($1, $2, $3, $4)', [id('ct2'), id('cs2'), '4'.repeat(64), T]);

    await sql('DELETE FROM browser_sessions WHERE id = $1', [id('b2')]);
    expect(await count(sql, 'upstream_sessions', 'id = $1', [id('us2')])).toBe(0);
    expect(await sql('SELECT browser_session_id FROM oauth2_sessions WHERE id = $1', [id('o2')])).toEqual([{ browser_session_id: null }]);
    expect(await sql('SELECT browser_session_id FROM compat_sessions WHERE id = $1', [id('cs2')])).toEqual([{ browser_session_id: null }]);

    await sql('DELETE FROM oauth2_sessions WHERE id = $1', [id('o2')]);
    await sql('DELETE FROM compat_sessions WHERE id = $1', [id('cs2')]);
    expect(await count(sql, 'access_tokens', 'session_id = $1', [id('o2')])).toBe(0);
    expect(await count(sql, 'refresh_tokens', 'session_id = $1', [id('o2')])).toBe(0);
    expect(await count(sql, 'compat_tokens', 'session_id = $1', [id('cs2')])).toBe(0);
  });

  it('refuses to delete a user something still refers to (accounts are deactivated, never deleted)', async () => {
    await expect(sql('DELETE FROM users WHERE id = $1', [id('u1')])).rejects.toThrow(/foreign key/i);
    expect(await count(sql, 'users', 'id = $1', [id('u1')])).toBe(1);
  });

  if (kind === 'postgres') {
    it('numbers outbox rows with a bigint', async () => {
      const [col] = await sql(`SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'outbox' AND column_name = 'id'`);
      expect(col).toEqual({ data_type: 'bigint' });
      await sql(`SELECT setval('outbox_id_seq', 3000000000)`);
      await sql(`INSERT INTO outbox (user_key, kind, payload, created_at) VALUES ('alice', 'devices.sync', '{}', $1)`, [T]);
      expect(await count(sql, 'outbox', 'id > 2147483647')).toBe(1);
    });
  }
});

describe.each(TEST_DBS)('the ForeignKeys migration on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-fk-upgrade-'));
  let tdb: TestDatabase;

  beforeAll(async () => {
    tdb = await freshDatabase(kind, dir);
  });
  afterAll(async () => {
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes orphan rows and forgets dangling browser sessions, keeping everything else, before adding the keys', async () => {
    const all = kind === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    const fkIndex = all.findIndex((m) => m.name.startsWith('ForeignKeys'));
    // A database as the release before the foreign keys left it.
    await openDataSource({ url: tdb.url, schema: tdb.schema }).then((d) => d.destroy());
    const before = new DataSource({ ...buildDataSourceOptions({ url: tdb.url, schema: tdb.schema }), migrations: all.slice(0, fkIndex) } as never);
    await before.initialize();
    await before.runMigrations({ transaction: 'all' });
    const old = sqlOf(before, kind);
    await seedParents(old);
    // Orphans a database edited by hand could hold: a link and a session of a user that is gone,
    // a token of a session that is gone, a session naming a browser session that is gone.
    await old('INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('lgone'), 'corp', 'ghost', id('ugone'), T]);
    await old('INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('lkept'), 'corp', 'alice', id('u1'), T]);
    await old('INSERT INTO oauth2_sessions (id, user_id, client_id, scope, grant_type, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [id('ogone'), id('ugone'), 'client', 'openid', 'authorization_code', T]);
    await old('INSERT INTO access_tokens (id, token_hash, session_id, created_at) VALUES ($1, $2, $3, $4)', [id('atgone'), '5'.repeat(64), id('ogone'), T]);
    await old('INSERT INTO access_tokens (id, token_hash, session_id, created_at) VALUES ($1, $2, $3, $4)', [id('atkept'), '6'.repeat(64), id('o1'), T]);
    await old('INSERT INTO compat_sessions (id, user_id, device_id, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('csdangle'), id('u1'), 'DEVD', id('bgone'), T]);
    await old(`INSERT INTO outbox (user_key, kind, payload, created_at) VALUES ('alice', 'devices.sync', '{}', $1)`, [T]);
    const [{ id: outboxId }] = (await old('SELECT id FROM outbox')) as [{ id: number }];
    await before.destroy();

    const after = await openDataSource({ url: tdb.url, schema: tdb.schema });
    try {
      expect(await runMigrations(after)).toEqual([all[fkIndex]!.name]);
      const sql = sqlOf(after, kind);
      expect((await sql('SELECT id FROM upstream_links ORDER BY id')).map((r) => r.id)).toEqual([id('lkept')]);
      expect(await count(sql, 'oauth2_sessions', 'id = $1', [id('ogone')])).toBe(0);
      expect((await sql('SELECT id FROM access_tokens ORDER BY id')).map((r) => r.id)).toEqual([id('atkept')]);
      expect(await sql('SELECT browser_session_id FROM compat_sessions WHERE id = $1', [id('csdangle')])).toEqual([{ browser_session_id: null }]);
      expect((await sql('SELECT id FROM outbox')).map((r) => Number(r.id))).toEqual([Number(outboxId)]);
      await expect(sql('INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)', [id('lnew'), 'corp', 'x', id('ugone'), T])).rejects.toThrow(/foreign key/i);
      if (kind === 'sqlite') expect(await sql('PRAGMA foreign_key_check')).toEqual([]);
    } finally {
      await after.destroy();
    }
  });
});
