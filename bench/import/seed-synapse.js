// Seeds a Synapse database (Synapse's own tables at schema version 94, the DDL the tests use:
// test/fixtures/synapse/schema-94.postgres.sql) in a fresh PostgreSQL schema, with multi-row INSERTs
// from unnest arrays (no table is ever held in memory: rows are made and sent 10,000 at a time).
//
// Per user i: @bench<i>:bench.test, a profile, an email, an external id of auth_provider
// "oidc-bench", 3 devices each with one access token; the first device's token is refreshable
// (a refresh_tokens row). Tokens are in Synapse's format (syt_/syr_ with its checksum).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateSynapseToken } from '../../dist/crypto/synapse-token-format.js';

const DDL = fileURLToPath(new URL('../../test/fixtures/synapse/schema-94.postgres.sql', import.meta.url));
export const SERVER = 'bench.test';
export const IDP = 'oidc-bench';
const BATCH = 10_000;
const DEVICES_PER_USER = 3;

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function letters(n) {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[b[i] % 52];
  return s;
}

export async function createSynapseSchema(url) {
  const schema = `bench_syn_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE SCHEMA "${schema}"`);
  await c.query(`SET search_path TO "${schema}"`);
  await c.query(readFileSync(DDL, 'utf8'));
  await c.query('INSERT INTO schema_version (version, upgraded) VALUES (94, true)');
  await c.end();
  return { schema, url: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}` };
}

/**
 * Users `from` … `from + count - 1`, each with everything listed above. `tokenIdBase` keeps the
 * token ids of successive calls apart. Returns the number of rows written per table.
 */
export async function seedUsers(url, schema, from, count, tokenIdBase) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`SET search_path TO "${schema}"`);
  const rows = { users: 0, devices: 0, access_tokens: 0, refresh_tokens: 0, user_external_ids: 0 };
  for (let start = from; start < from + count; start += BATCH) {
    const end = Math.min(from + count, start + BATCH);
    const u = { name: [], lp: [], created: [], display: [], email: [], added: [] };
    const d = { user: [], device: [], name: [] };
    const r = { id: [], user: [], device: [], token: [] };
    const a = { id: [], user: [], device: [], token: [], valid: [], validated: [], refresh: [] };
    for (let i = start; i < end; i++) {
      const lp = `bench${i}`;
      const name = `@${lp}:${SERVER}`;
      u.name.push(name);
      u.lp.push(lp);
      u.created.push(1_600_000_000 + i);
      u.display.push(`Bench User ${i}`);
      u.email.push(`${lp}@bench.test`);
      u.added.push(1_600_000_000_000 + i);
      for (let k = 0; k < DEVICES_PER_USER; k++) {
        const device = `D${i}X${k}`;
        d.user.push(name);
        d.device.push(device);
        d.name.push(k === 0 ? 'Element on iPhone' : null);
        const id = tokenIdBase + i * (DEVICES_PER_USER + 1) + k;
        let refresh = null;
        if (k === 0) {
          refresh = tokenIdBase + i * (DEVICES_PER_USER + 1) + DEVICES_PER_USER;
          r.id.push(refresh);
          r.user.push(name);
          r.device.push(device);
          r.token.push(generateSynapseToken('synapse_refresh', lp, letters(20)));
        }
        a.id.push(id);
        a.user.push(name);
        a.device.push(device);
        a.token.push(generateSynapseToken('synapse_access', lp, letters(20)));
        a.valid.push(k === 0 ? Date.now() + 86_400_000 : null);
        a.validated.push(1_700_000_000_000);
        a.refresh.push(refresh);
      }
    }
    await c.query('BEGIN');
    await c.query('INSERT INTO users (name, password_hash, creation_ts) SELECT n, NULL, t FROM unnest($1::text[], $2::bigint[]) AS x(n, t)', [u.name, u.created]);
    await c.query('INSERT INTO profiles (user_id, displayname, full_user_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])', [u.lp, u.display, u.name]);
    await c.query("INSERT INTO user_threepids (user_id, medium, address, validated_at, added_at) SELECT n, 'email', e, t, t FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(n, e, t)", [u.name, u.email, u.added]);
    await c.query('INSERT INTO user_external_ids (auth_provider, external_id, user_id) SELECT $1, l, n FROM unnest($2::text[], $3::text[]) AS x(l, n)', [IDP, u.lp, u.name]);
    await c.query("INSERT INTO devices (user_id, device_id, display_name, last_seen, ip, user_agent) SELECT u, d, n, 1700000000000, '10.0.0.1', 'Element' FROM unnest($1::text[], $2::text[], $3::text[]) AS x(u, d, n)", [
      d.user,
      d.device,
      d.name,
    ]);
    await c.query('INSERT INTO refresh_tokens (id, user_id, device_id, token) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])', [r.id, r.user, r.device, r.token]);
    await c.query(
      'INSERT INTO access_tokens (id, user_id, device_id, token, valid_until_ms, last_validated, refresh_token_id, used) SELECT i, u, d, t, v, l, r, CASE WHEN r IS NULL THEN NULL ELSE false END FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS x(i, u, d, t, v, l, r)',
      [a.id, a.user, a.device, a.token, a.valid, a.validated, a.refresh],
    );
    await c.query('COMMIT');
    rows.users += end - start;
    rows.devices += d.device.length;
    rows.access_tokens += a.id.length;
    rows.refresh_tokens += r.id.length;
    rows.user_external_ids += end - start;
  }
  await c.query('ANALYZE');
  await c.end();
  return rows;
}

/** One new device with an access token for each of `count` existing users (spread over the whole range). */
export async function addDevices(url, schema, users, count, tokenIdBase) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`SET search_path TO "${schema}"`);
  const d = { user: [], device: [], id: [], token: [] };
  const step = Math.max(1, Math.floor(users / count));
  for (let n = 0; n < count; n++) {
    const i = (n * step) % users;
    const lp = `bench${i}`;
    d.user.push(`@${lp}:${SERVER}`);
    d.device.push(`NEW${i}`);
    d.id.push(tokenIdBase + n);
    d.token.push(generateSynapseToken('synapse_access', lp, letters(20)));
  }
  await c.query('BEGIN');
  await c.query("INSERT INTO devices (user_id, device_id, last_seen, ip, user_agent) SELECT u, d, 1700000000000, '10.0.0.2', 'Element' FROM unnest($1::text[], $2::text[]) AS x(u, d)", [d.user, d.device]);
  await c.query('INSERT INTO access_tokens (id, user_id, device_id, token, last_validated) SELECT i, u, d, t, 1700000000000 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS x(i, u, d, t)', [
    d.id,
    d.user,
    d.device,
    d.token,
  ]);
  await c.query('COMMIT');
  await c.end();
  return count;
}

export async function dropSchema(url, schema) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}
