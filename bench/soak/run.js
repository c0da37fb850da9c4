// Soak benchmark: Causeway on PostgreSQL + Redis under mixed traffic for a long while. First the
// peak: the mix run closed-loop (as fast as it goes) for a short time. Then the soak: the same mix
// offered open-loop at 70% of that peak for BENCH_SOAK_MINUTES (default 10), with the homeserver
// down for BENCH_OUTAGE_S (default 30 s) in the middle. The mix, per 100 operations: 50
// introspections answered from the cache (a small hot set), 38 that miss it (a large cold set, each
// token seen again only after the cache's 10 s), 5 refreshes, 4 sign-outs (revocations ending a
// session: a devices.sync event through the outbox and the bus), 3 first sign-ins.
//
// Prints, per interval (a minute; BENCH_INTERVAL_S): operations, errors and p99 per operation,
// Causeway's RSS and the outbox backlog; at the end the errors (must be 0), RSS flatness (the last
// interval within 10% of the second), and the events written vs delivered (must be equal) once the
// backlog drained. Sign-ins need the homeserver (the account is provisioned there): while it is
// down they are refused with 503 by design and are counted apart, not as errors. Asserts nothing.
//
//   npm run bench:soak
//   BENCH_SOAK_MINUTES=3 npm run bench:soak
//   BENCH_QUICK=1 (CI: 20 s, 5 s intervals, a 3 s outage)
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { generateToken, sha256Hex } from '../../dist/crypto/token-format.js';
import { ulid } from '../../dist/storage/ulid.js';
import { freePort, load, percentile, rssMiB, table, waitForReady } from '../lib.js';
import { seedCauseway } from '../introspection/seed-causeway.js';
import { oneLogin, register } from '../login/flow.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const FAKE_HS = fileURLToPath(new URL('../signout/fake-homeserver.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CAUSEWAY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SOAK_S = QUICK ? 20 : Number(process.env.BENCH_SOAK_MINUTES ?? 10) * 60;
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_S ?? (QUICK ? 5 : 60));
const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? (QUICK ? 3 : 30));
const PEAK_S = Number(process.env.BENCH_PEAK_S ?? (QUICK ? 3 : 20));
const LOAD_FACTOR = Number(process.env.BENCH_LOAD_FACTOR ?? 0.7);
const COLD_TOKENS = QUICK ? 2000 : 20_000;
const SESSIONS = QUICK ? 3000 : 40_000;
const SECRET = 'bench-shared-secret-0123456789abcdef';
const OPS = /** @type {const} */ (['introspection hit', 'introspection miss', 'refresh', 'sign-out', 'sign-in']);
/** Per 100 operations. */
const MIX = { 'introspection hit': 50, 'introspection miss': 38, refresh: 5, 'sign-out': 4, 'sign-in': 3 };
/** Open-loop operations in flight at most; beyond it an operation is dropped and counted (the target fell behind). */
const MAX_IN_FLIGHT = 256;

const schema = `bench_soak_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-soak-'));
const db = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });

function forkHomeserver(port) {
  return new Promise((resolve, reject) => {
    const child = fork(FAKE_HS, [String(port), SECRET], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`fake homeserver exited with ${code}`)));
  });
}
const tell = (child, cmd) =>
  new Promise((resolve) => {
    child.once('message', resolve);
    child.send({ cmd });
  });

async function startCauseway(hsUrl) {
  const port = await freePort();
  writeFileSync(
    join(dir, 'gateway.yaml'),
    stringify({
      dev_mode: true,
      http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
      database: { url: PG_URL, schema },
      redis: { url: REDIS_URL, key_prefix: `bench-soak-${randomBytes(4).toString('hex')}:` },
      secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
      matrix: { homeserver: 'bench.test', endpoint: hsUrl, secret: SECRET },
      tokens: { introspection_cache_ttl: 10 },
      policy: { allow_insecure_uris: true },
      logging: { level: 'warn' },
      upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] },
    }),
  );
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', join(dir, 'gateway.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' } });
  const url = `http://127.0.0.1:${port}`;
  if (await waitForReady(url)) return { child, url };
  throw new Error('Causeway did not start');
}

/** Sessions of `clientId`, each of its own user, with a live refresh token. */
async function seedSessions(clientId, count) {
  const now = Date.now();
  const out = [];
  for (let i = 0; i < count; i += 2000) {
    const part = Array.from({ length: Math.min(2000, count - i) }, (_, j) => ({ user: ulid(now), session: ulid(now), access: ulid(now), refresh: ulid(now), token: generateToken('refresh'), n: i + j }));
    await db.query(`INSERT INTO users (id, localpart, created_at) SELECT u, 'soak' || n, $2 FROM unnest($1::varchar[], $3::int[]) AS v(u, n)`, [part.map((p) => p.user), now, part.map((p) => p.n)]);
    await db.query(
      `INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, created_at, last_active_at)
       SELECT s, u, $3, 'SOAK' || n, 'urn:matrix:client:api:* urn:matrix:client:device:SOAK' || n, 'authorization_code', $4, $4 FROM unnest($1::varchar[], $2::varchar[], $5::int[]) AS v(s, u, n)`,
      [part.map((p) => p.session), part.map((p) => p.user), clientId, now, part.map((p) => p.n)],
    );
    await db.query(`INSERT INTO access_tokens (id, token_hash, session_id, created_at, expires_at, first_used_at) SELECT a, h, s, $3, $4, $3 FROM unnest($1::varchar[], $2::varchar[], $5::varchar[]) AS v(a, h, s)`, [
      part.map((p) => p.access),
      part.map(() => sha256Hex(generateToken('access'))),
      now,
      now + 3600_000,
      part.map((p) => p.session),
    ]);
    await db.query(
      `INSERT INTO refresh_tokens (id, token_hash, session_id, access_token_id, created_at, expires_at) SELECT r, h, s, a, $5, $6 FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS v(r, h, s, a)`,
      [part.map((p) => p.refresh), part.map((p) => sha256Hex(p.token)), part.map((p) => p.session), part.map((p) => p.access), now, now + 30 * 86400_000],
    );
    out.push(...part.map((p) => p.token));
  }
  await db.query('ANALYZE');
  return out;
}

const postForm = async (url, fields, headers = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const text = await res.text();
  if (res.status !== 200) throw Object.assign(new Error(`${res.status} ${text.slice(0, 200)}`), { status: res.status });
  return JSON.parse(text);
};

/** From the outage's start until the first sign-in succeeds after it (Causeway's homeserver breaker may stay open a little after the homeserver is back). */
let hsDown = false;
let upAt = 0;
let recoveredAfterS = NaN;
let cw;
let clientId;
let signInClient;
let hot = [];
let cold = [];
let coldNext = 0;
/** Sessions for refreshes (a refresh token each, replaced by every refresh; one operation at a time per session). */
let refreshFree = [];
/** Refresh tokens of sessions to end. */
let toSignOut = [];
let signIns = 0;

async function introspect(token) {
  const a = await postForm(`${cw.url}/oauth2/introspect`, { token, token_type_hint: 'access_token' }, { authorization: `Bearer ${SECRET}`, 'x-mas-supports-device-id': '1' });
  if (a.active !== true) throw new Error('a live token answered inactive');
}
const run = {
  'introspection hit': () => introspect(hot[(Math.random() * hot.length) | 0]),
  'introspection miss': () => introspect(cold[coldNext++ % cold.length]),
  refresh: async () => {
    const token = refreshFree.pop();
    if (!token) throw new Error('no free session to refresh');
    try {
      const t = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
      refreshFree.unshift(t.refresh_token);
    } catch (e) {
      refreshFree.unshift(token);
      throw e;
    }
  },
  'sign-out': async () => {
    const token = toSignOut.pop();
    if (!token) throw new Error('no session left to end');
    await postForm(`${cw.url}/oauth2/revoke`, { token, token_type_hint: 'refresh_token', client_id: clientId });
  },
  'sign-in': () => oneLogin(cw.url, signInClient, `i${signIns}`, `soak-signin-${signIns++}`),
};

/** Picks the next operation of the mix (deterministic spread: each op at its share of every 100). */
function* mix() {
  const seq = OPS.flatMap((op) => Array(MIX[op]).fill(op));
  for (let i = 0; ; i++) {
    // A fixed shuffle of the 100 slots, so that each op is spread over the cycle.
    yield seq[(i * 37) % seq.length];
  }
}

function newBucket() {
  return Object.fromEntries(OPS.map((op) => [op, { lat: [], errors: 0, refusedDuringOutage: 0 }]));
}

async function timed(op, bucket) {
  const t0 = performance.now();
  try {
    await run[op]();
    bucket[op].lat.push(performance.now() - t0);
    if (op === 'sign-in' && hsDown && upAt) {
      hsDown = false;
      recoveredAfterS = (Date.now() - upAt) / 1000;
    }
  } catch (e) {
    // A sign-in needs the homeserver: while it is down (and until the first sign-in succeeds
    // after it) Causeway answers 503 (by design).
    if (op === 'sign-in' && hsDown) bucket[op].refusedDuringOutage++;
    else {
      bucket[op].errors++;
      if (bucket[op].errors <= 3) console.error(`${op}: ${e.message}`);
    }
  }
}

/** Closed loop: `concurrency` workers run the mix as fast as they can for `seconds`. */
async function peak(seconds, concurrency) {
  const next = mix();
  const bucket = newBucket();
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await timed(next.next().value, bucket);
        n++;
      }
    }),
  );
  return { perSecond: n / seconds, bucket };
}

const outboxCounts = async () => {
  const {
    rows: [r],
  } = await db.query(`SELECT count(*)::int AS total, count(*) FILTER (WHERE delivered_at IS NOT NULL)::int AS delivered,
    count(*) FILTER (WHERE dead_at IS NOT NULL)::int AS dead, count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL)::int AS backlog FROM outbox`);
  return r;
};

let hs;
const minutes = [];
let final;
let peakRate = 0;
let dropped = 0;
try {
  const hsPort = await freePort();
  hs = await forkHomeserver(hsPort);
  const { openDataSource, runMigrations } = await import('../../dist/storage/data-source.js');
  const ds = await openDataSource({ url: PG_URL, schema });
  await runMigrations(ds);
  await ds.destroy();
  await db.connect();
  process.stderr.write(`seeding ${COLD_TOKENS + 100} access tokens and ${SESSIONS} refreshable sessions…\n`);
  const tokens = await seedCauseway({ url: PG_URL, schema }, COLD_TOKENS + 100);
  hot = tokens.slice(0, 100);
  cold = tokens.slice(100);
  cw = await startCauseway(`http://127.0.0.1:${hsPort}/`);
  clientId = await register(cw);
  signInClient = await register(cw);
  const sessions = await seedSessions(clientId, SESSIONS);
  refreshFree = sessions.slice(0, 500);
  toSignOut = sessions.slice(500);

  process.stderr.write(`peak: the mix closed-loop for ${PEAK_S} s…\n`);
  await peak(Math.min(3, PEAK_S), 16); // warm-up
  const p = await peak(PEAK_S, 32);
  peakRate = p.perSecond;
  const rate = peakRate * LOAD_FACTOR;
  process.stderr.write(`peak ${peakRate.toFixed(0)} ops/s (${load()}); soak at ${rate.toFixed(0)} ops/s for ${SOAK_S} s, homeserver down for ${OUTAGE_S} s in the middle…\n`);

  const next = mix();
  const start = Date.now();
  const outageAt = start + (SOAK_S / 2) * 1000;
  let bucket = newBucket();
  let bucketStart = start;
  let inFlight = 0;
  let issued = 0;
  const pending = new Set();
  const outage = (async () => {
    await new Promise((r) => setTimeout(r, outageAt - Date.now()));
    await tell(hs, 'down');
    hsDown = true;
    await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
    await tell(hs, 'up');
    upAt = Date.now();
  })();
  while (Date.now() - start < SOAK_S * 1000) {
    // Open loop: as many operations as the rate says by now, whatever the answers' latency.
    const due = Math.floor(((Date.now() - start) / 1000) * rate);
    while (issued < due) {
      issued++;
      if (inFlight >= MAX_IN_FLIGHT) {
        dropped++;
        continue;
      }
      inFlight++;
      const b = bucket;
      const op = next.next().value;
      const pr = timed(op, b).finally(() => {
        inFlight--;
        pending.delete(pr);
      });
      pending.add(pr);
    }
    if (Date.now() - bucketStart >= INTERVAL_S * 1000) {
      const ob = await outboxCounts();
      minutes.push({ bucket, rss: rssMiB(cw.child.pid), backlog: ob.backlog, load: load(), hsDown });
      bucket = newBucket();
      bucketStart = Date.now();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  await outage;
  if (bucket[OPS[0]].lat.length) minutes.push({ bucket, rss: rssMiB(cw.child.pid), backlog: (await outboxCounts()).backlog, load: load(), hsDown });
  // Drain: every event written must reach the homeserver (bounded wait).
  for (let i = 0; i < 600; i++) {
    final = await outboxCounts();
    if (final.backlog === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const arrivals = /** @type {{ counts: Record<string, number> }} */ (await tell(hs, 'arrivals'));
  final.syncCalls = arrivals.counts['/_synapse/mas/sync_devices'] ?? 0;
} finally {
  if (cw) {
    const exited = new Promise((r) => cw.child.once('exit', r));
    cw.child.kill('SIGTERM');
    await exited;
  }
  hs?.kill();
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
  await db.end().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

const rows = minutes.map((m, i) => [
  `${((i + 1) * INTERVAL_S).toFixed(0)} s${m.hsDown ? ' (outage)' : ''}`,
  ...OPS.map((op) => {
    const b = m.bucket[op];
    const lat = b.lat.sort((x, y) => x - y);
    return `${lat.length} / ${b.errors}${b.refusedDuringOutage ? ` (+${b.refusedDuringOutage} 503)` : ''} / ${lat.length ? percentile(lat, 99).toFixed(0) : '-'} ms`;
  }),
  `${m.rss.toFixed(0)} MiB`,
  String(m.backlog),
  m.load,
]);
const errors = minutes.reduce((s, m) => s + OPS.reduce((t, op) => t + m.bucket[op].errors, 0), 0);
const refused = minutes.reduce((s, m) => s + m.bucket['sign-in'].refusedDuringOutage, 0);
console.log(
  `\nSoak: PostgreSQL + Redis, ${SOAK_S} s at ${(LOAD_FACTOR * 100).toFixed(0)}% of the measured peak (${peakRate.toFixed(0)} mixed ops/s closed-loop), homeserver down ${OUTAGE_S} s in the middle, Node ${process.version}`,
);
console.log('Each cell: operations done / errors / p99 of the interval.');
console.log(table(['interval', ...OPS, 'RSS', 'outbox backlog', 'load'], rows));
const second = minutes[1]?.rss ?? minutes[0]?.rss;
const last = minutes[minutes.length - 1]?.rss;
console.log(
  `\nErrors: ${errors} (sign-ins refused with 503 while the homeserver was down, by design: ${refused}; the first sign-in succeeded ${recoveredAfterS.toFixed(1)} s after it came back); operations dropped because ${MAX_IN_FLIGHT} were in flight: ${dropped}.`,
);
console.log(`RSS: second interval ${second?.toFixed(0)} MiB, last ${last?.toFixed(0)} MiB (${(((last - second) / second) * 100).toFixed(1)}%; target within 10%).`);
console.log(`Events: ${final?.total} written to the outbox, ${final?.delivered} delivered, ${final?.dead} dead, backlog ${final?.backlog} after draining; the homeserver received ${final?.syncCalls} sync_devices calls.`);
