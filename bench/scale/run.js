// Scale benchmark: does Causeway on PostgreSQL stay as fast with a million users? Two fresh schemas
// get the same measured set (10,000 live access tokens, refreshable sessions of a registered
// client); the second also holds the bulk: 1,000,000 users, 2,500,000 sessions with an access and a
// refresh token each (5,000,000 tokens) and 1,000,000 upstream links, generated inside PostgreSQL
// (INSERT … SELECT generate_series: bulk SQL, not the API; the fastest way to load it on one
// machine). Then, against each: uncached introspection (autocannon), refreshes, revocations and
// first sign-ins, each for a few seconds; the scale figure beside the 10,000-token one, with the
// ratio (target: within 1.5×), the server's CPU per operation, the machine load, the index and
// table sizes and the database size. The schemas are dropped at the end. Asserts nothing.
//
//   npm run bench:scale
//   BENCH_USERS=1000000 BENCH_SESSIONS=2500000 BENCH_LINKS=1000000 BENCH_DURATION=5 npm run bench:scale
//   BENCH_QUICK=1 (CI: 2,000 users, 5,000 sessions, one second per operation)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { stringify } from 'yaml';
import { generateToken, sha256Hex } from '../../dist/crypto/token-format.js';
import { openDataSource, runMigrations } from '../../dist/storage/data-source.js';
import { ulid } from '../../dist/storage/ulid.js';
import { cpuSeconds, freePort, load, percentile, table, waitForReady } from '../lib.js';
import { seedCauseway } from '../introspection/seed-causeway.js';
import { oneLogin, register, startHomeserver } from '../login/flow.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const USERS = Number(process.env.BENCH_USERS ?? (QUICK ? 2000 : 1_000_000));
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? (QUICK ? 5000 : 2_500_000));
const LINKS = Number(process.env.BENCH_LINKS ?? (QUICK ? 2000 : 1_000_000));
const MEASURED = Number(process.env.BENCH_TOKENS ?? (QUICK ? 500 : 10_000));
const REFRESHABLE = Number(process.env.BENCH_REFRESHABLE ?? (QUICK ? 300 : 6000));
/** Operations of each kind before measuring (compiled code, warm pools): fair to the first target. */
const WARM = QUICK ? 10 : 50;
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 5));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const CHUNK = 250_000;
const SECRET = 'bench-shared-secret-0123456789abcdef';

async function withClient(schema, work) {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Bulk rows made by PostgreSQL itself, in chunks (progress on stderr). Ids are 26 characters, like ULIDs. */
async function bulkFill(schema) {
  const now = Date.now();
  const id = (prefix, expr) => `'${prefix}' || lpad((${expr})::text, 25, '0')`;
  /** @type {[string, number, (a: number, b: number) => string][]} */
  const steps = [
    ['users', USERS, (a, b) => `INSERT INTO users (id, localpart, created_at) SELECT ${id('U', 'i')}, 'scale' || i, ${now} FROM generate_series(${a}, ${b}) i`],
    [
      'oauth2_sessions',
      SESSIONS,
      (a, b) => `INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, created_at, last_active_at)
        SELECT ${id('S', 'i')}, ${id('U', `i % ${USERS}`)}, 'scale-client', 'SD' || i, 'urn:matrix:client:api:* urn:matrix:client:device:SD' || i, 'authorization_code', ${now}, ${now} FROM generate_series(${a}, ${b}) i`,
    ],
    [
      'access_tokens',
      SESSIONS,
      (a, b) => `INSERT INTO access_tokens (id, token_hash, session_id, created_at, expires_at, first_used_at)
        SELECT ${id('A', 'i')}, encode(sha256(('a' || i)::bytea), 'hex'), ${id('S', 'i')}, ${now}, ${now + 3600_000}, ${now} FROM generate_series(${a}, ${b}) i`,
    ],
    [
      'refresh_tokens',
      SESSIONS,
      (a, b) => `INSERT INTO refresh_tokens (id, token_hash, session_id, access_token_id, created_at, expires_at)
        SELECT ${id('R', 'i')}, encode(sha256(('r' || i)::bytea), 'hex'), ${id('S', 'i')}, ${id('A', 'i')}, ${now}, ${now + 30 * 86400_000} FROM generate_series(${a}, ${b}) i`,
    ],
    [
      'upstream_links',
      LINKS,
      (a, b) => `INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) SELECT ${id('L', 'i')}, 'dev', 'scale' || i, ${id('U', `i % ${USERS}`)}, ${now} FROM generate_series(${a}, ${b}) i`,
    ],
  ];
  await withClient(schema, async (c) => {
    await c.query('SET synchronous_commit = off');
    for (const [table, count, sql] of steps) {
      const t0 = Date.now();
      // The users table's ids start at 0 so that `i % USERS` always names one.
      const first = table === 'users' ? 0 : 1;
      for (let a = first; a < count + first; a += CHUNK) await c.query(sql(a, Math.min(a + CHUNK, count + first) - 1));
      process.stderr.write(`  ${table}: ${count.toLocaleString('en')} rows in ${((Date.now() - t0) / 1000).toFixed(0)} s (${load()})\n`);
    }
    await c.query('ANALYZE');
  });
}

/** Sessions of `clientId` with live refresh tokens: what refreshes and revocations use up. */
async function seedRefreshable(schema, clientId, count) {
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({ session: ulid(now), access: ulid(now), refresh: ulid(now), token: generateToken('refresh'), device: `RF${i}` }));
  await withClient(schema, async (c) => {
    const {
      rows: [u],
    } = await c.query(`INSERT INTO users (id, localpart, created_at) VALUES ($1, $2, $3) RETURNING id`, [ulid(now), `refresher${randomBytes(3).toString('hex')}`, now]);
    for (let i = 0; i < rows.length; i += 2000) {
      const part = rows.slice(i, i + 2000);
      await c.query(
        `INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, created_at, last_active_at)
         SELECT s, $2, $3, d, 'urn:matrix:client:api:* urn:matrix:client:device:' || d, 'authorization_code', $4, $4 FROM unnest($1::varchar[], $5::varchar[]) AS v(s, d)`,
        [part.map((r) => r.session), u.id, clientId, now, part.map((r) => r.device)],
      );
      await c.query(`INSERT INTO access_tokens (id, token_hash, session_id, created_at, expires_at, first_used_at) SELECT a, h, s, $3, $4, $3 FROM unnest($1::varchar[], $2::varchar[], $5::varchar[]) AS v(a, h, s)`, [
        part.map((r) => r.access),
        part.map(() => sha256Hex(generateToken('access'))),
        now,
        now + 3600_000,
        part.map((r) => r.session),
      ]);
      await c.query(
        `INSERT INTO refresh_tokens (id, token_hash, session_id, access_token_id, created_at, expires_at) SELECT r, h, s, a, $5, $6 FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS v(r, h, s, a)`,
        [part.map((r) => r.refresh), part.map((r) => sha256Hex(r.token)), part.map((r) => r.session), part.map((r) => r.access), now, now + 30 * 86400_000],
      );
    }
  });
  return rows.map((r) => r.token);
}

async function startCauseway(dir, schema, homeserverUrl) {
  const port = await freePort();
  const file = join(dir, `${schema}.yaml`);
  writeFileSync(
    file,
    stringify({
      dev_mode: true,
      http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
      database: { url: PG_URL, schema },
      secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
      matrix: { homeserver: 'bench.test', endpoint: homeserverUrl, secret: SECRET },
      tokens: { introspection_cache_ttl: 0 },
      policy: { allow_insecure_uris: true },
      logging: { level: 'warn' },
      upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] },
    }),
  );
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', file], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' } });
  const url = `http://127.0.0.1:${port}`;
  if (await waitForReady(url)) return { child, url };
  throw new Error('Causeway did not start');
}

/** Runs `op(i)` from CONCURRENCY loops for DURATION seconds (or until `limit` operations). */
async function loop(pid, limit, op) {
  let n = 0;
  let failures = 0;
  let firstError;
  const latencies = [];
  const cpu0 = cpuSeconds(pid);
  const started = Date.now();
  const end = started + DURATION * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end && n < limit) {
        const i = n++;
        const t0 = performance.now();
        try {
          await op(i);
          latencies.push(performance.now() - t0);
        } catch (e) {
          failures++;
          firstError ??= e;
        }
      }
    }),
  );
  if (firstError) console.error(String(firstError));
  latencies.sort((a, b) => a - b);
  const ok = latencies.length;
  return { perSecond: ok / ((Date.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMs: ok ? ((cpuSeconds(pid) - cpu0) / ok) * 1000 : NaN, errors: failures, load: load() };
}

const postForm = async (url, fields, headers = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body}`);
  return JSON.parse(body);
};

async function measure(cw, schema, tokens) {
  const clientId = await register(cw);
  const refreshable = await seedRefreshable(schema, clientId, (REFRESHABLE + WARM) * 2);
  const signInClient = await register(cw);
  // Warm-up: each operation a few times (these tokens are not measured).
  const warmTokens = refreshable.splice(2 * REFRESHABLE);
  for (let i = 0; i < WARM; i++) {
    await postForm(`${cw.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: warmTokens[i], client_id: clientId });
    await postForm(`${cw.url}/oauth2/revoke`, { token: warmTokens[WARM + i], token_type_hint: 'refresh_token', client_id: clientId });
    await oneLogin(cw.url, signInClient, `w${i}`, `scale-warm-${i}`);
  }
  const pid = cw.child.pid;
  const out = {};
  {
    const bodies = tokens.map((t) => `token=${t}&token_type_hint=access_token`);
    const r = await autocannon({
      url: `${cw.url}/oauth2/introspect`,
      method: 'POST',
      connections: 50,
      duration: Math.max(1, DURATION / 2),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${SECRET}` },
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[(Math.random() * bodies.length) | 0] }) }],
    });
    const cpu0 = cpuSeconds(pid);
    const m = await autocannon({
      url: `${cw.url}/oauth2/introspect`,
      method: 'POST',
      connections: 50,
      duration: DURATION,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${SECRET}` },
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[(Math.random() * bodies.length) | 0] }) }],
    });
    const ok = m.requests.total - m.non2xx;
    out.introspection = {
      perSecond: m.requests.average,
      p50: m.latency.p50,
      p99: m.latency.p99,
      cpuMs: ((cpuSeconds(pid) - cpu0) / ok) * 1000,
      errors: r.errors + r.non2xx + m.errors + m.non2xx + m.timeouts,
      load: load(),
    };
  }
  out.refresh = await loop(pid, REFRESHABLE, async (i) => {
    const t = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: refreshable[i], client_id: clientId });
    if (!t.access_token) throw new Error('no access token');
  });
  out.revocation = await loop(pid, REFRESHABLE, (i) => postForm(`${cw.url}/oauth2/revoke`, { token: refreshable[REFRESHABLE + i], token_type_hint: 'refresh_token', client_id: clientId }));
  out['first sign-in'] = await loop(pid, Infinity, (i) => oneLogin(cw.url, signInClient, `s${i}`, `scale-signin-${i}`));
  return out;
}

async function sizes(schema) {
  return withClient(schema, async (c) => {
    const { rows } = await c.query(
      `SELECT c.relname AS name, c.relkind AS kind, pg_relation_size(c.oid) AS bytes,
         (SELECT t.relname FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid WHERE x.indexrelid = c.oid) AS on_table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') ORDER BY pg_relation_size(c.oid) DESC`,
      [schema],
    );
    const {
      rows: [db],
    } = await c.query('SELECT pg_database_size(current_database()) AS bytes');
    return { relations: rows.map((r) => ({ ...r, bytes: Number(r.bytes) })), database: Number(db.bytes) };
  });
}

const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-scale-'));
const hs = await startHomeserver();
const schemas = [];
const results = [];
let scaleSizes;
try {
  for (const bulk of [false, true]) {
    const schema = `bench_scale_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const ds = await openDataSource({ url: PG_URL, schema });
    await runMigrations(ds);
    await ds.destroy();
    if (bulk) {
      process.stderr.write(`bulk: ${USERS.toLocaleString('en')} users, ${SESSIONS.toLocaleString('en')} sessions (${(2 * SESSIONS).toLocaleString('en')} tokens), ${LINKS.toLocaleString('en')} links into ${schema}…\n`);
      await bulkFill(schema);
    }
    process.stderr.write(`${schema}: ${MEASURED} measured tokens…\n`);
    const tokens = await seedCauseway({ url: PG_URL, schema }, MEASURED);
    await withClient(schema, (c) => c.query('ANALYZE'));
    const cw = await startCauseway(dir, schema, hs.url);
    try {
      results.push(await measure(cw, schema, tokens));
    } finally {
      const exited = new Promise((r) => cw.child.once('exit', r));
      cw.child.kill('SIGTERM');
      await exited;
    }
    if (bulk) scaleSizes = await sizes(schema);
  }
} finally {
  await hs.close();
  for (const schema of schemas) await withClient('public', (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

const [base, scale] = results;
const fmt = (r) => `${r.perSecond.toFixed(0)}/s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, ${r.cpuMs.toFixed(2)} ms CPU, ${r.errors} errors (${r.load})`;
console.log(
  `\nScale: ${MEASURED.toLocaleString('en')} measured tokens alone vs beside ${USERS.toLocaleString('en')} users, ${(2 * SESSIONS).toLocaleString('en')} access+refresh tokens, ${LINKS.toLocaleString('en')} upstream links (PostgreSQL, no introspection cache), ${DURATION} s per operation, Node ${process.version}`,
);
console.log(
  table(
    ['operation', `${MEASURED.toLocaleString('en')} tokens`, 'at scale', 'throughput ratio (base / scale)', 'p50 ratio (scale / base)'],
    Object.keys(base).map((op) => [op, fmt(base[op]), fmt(scale[op]), `${(base[op].perSecond / scale[op].perSecond).toFixed(2)}×`, `${(scale[op].p50 / base[op].p50).toFixed(2)}×`]),
  ),
);
console.log('\nTarget: every operation at scale within 1.5× of its figure with the measured set alone.');
console.log(`\nSizes at scale (largest first):`);
console.log(
  table(
    ['relation', 'kind', 'size'],
    scaleSizes.relations
      .filter((r) => r.bytes > 0)
      .slice(0, 25)
      .map((r) => [r.name, r.kind === 'i' ? `index on ${r.on_table}` : 'table', mib(r.bytes)]),
  ),
);
const total = scaleSizes.relations.reduce((s, r) => s + r.bytes, 0);
console.log(
  `\nSchema total (tables + indexes): ${mib(total)}; indexes: ${mib(scaleSizes.relations.filter((r) => r.kind === 'i').reduce((s, r) => s + r.bytes, 0))}; database size (pg_database_size, shared with other schemas): ${mib(scaleSizes.database)}. Schemas dropped.`,
);
