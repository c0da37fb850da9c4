// Login benchmark: complete interactive sign-ins per second through Causeway's login machine
// (/authorize → dev sign-in form → upstream callback → consent page → Allow → code), each a first
// sign-in of a new person (account + link + upstream and browser sessions + consent + code), with
// the machine's snapshot in SQLite, PostgreSQL, or Redis. A minimal homeserver answers the
// provisioning calls. Then, on the same server, returning sign-ins: people who already have an
// account and have consented to the client sign in again (no account, no consent page). Prints a
// table with the server's CPU per sign-in and the machine load; asserts nothing.
//
//   npm run bench:login
//   BENCH_DURATION=10 BENCH_CONCURRENCY=16 npm run bench:login
//   BENCH_TARGETS=sqlite,postgres,redis (a subset)   BENCH_QUICK=1 (CI: one second a target)
//   BENCH_PROFILE=1: the server runs with --cpu-prof; the functions with the most self time are printed
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { cpuSeconds, freePort, load, percentile, profileSummary, table } from '../lib.js';
import { oneLogin, register, startHomeserver } from './flow.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 5));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? (QUICK ? 4 : 8));
const PROFILE = process.env.BENCH_PROFILE === '1';
const TARGETS = (process.env.BENCH_TARGETS ?? 'sqlite,postgres,redis').split(',');
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CAUSEWAY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'bench-shared-secret-0123456789abcdef';
async function startCauseway(label, database, redis, homeserverUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-login-'));
  const port = await freePort();
  const config = {
    dev_mode: true,
    http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
    database: { url: database.url, ...(database.schema ? { schema: database.schema } : {}) },
    ...(redis ? { redis: { url: REDIS_URL, key_prefix: `bench-login-${randomBytes(4).toString('hex')}:` } } : {}),
    secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
    matrix: { homeserver: 'bench.test', endpoint: homeserverUrl, secret: SECRET },
    policy: { allow_insecure_uris: true },
    logging: { level: 'warn' },
    upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Development sign-in' }] },
  };
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(config));
  const proc = spawn(process.execPath, [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), MAIN, 'serve', '--config', file], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' },
  });
  const url = `http://127.0.0.1:${port}`;
  let ready = false;
  // A loaded machine can take a while to start a process: up to a minute.
  for (let i = 0; i < 600 && !ready; i++) {
    try {
      ready = (await fetch(`${url}/health/ready`)).status === 200;
    } catch {
      /* starting */
    }
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) {
    proc.kill('SIGKILL');
    throw new Error(`${label} did not start`);
  }
  return {
    label,
    url,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      if (PROFILE) console.log(`\n${label}: most self time (first and returning sign-ins)\n${profileSummary(dir).join('\n')}`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(target, clientId, kind, username) {
  let n = 0;
  const latencies = [];
  let failures = 0;
  let requests = 0;
  const cpu0 = cpuSeconds(target.pid);
  const end = Date.now() + DURATION * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const i = n++;
        const t0 = performance.now();
        try {
          const made = await oneLogin(target.url, clientId, `${kind[0]}${i}`, username(i));
          requests += made;
          latencies.push(performance.now() - t0);
        } catch (e) {
          failures++;
          if (failures === 1) console.error(`${target.label}: ${e.message}`);
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(target.pid) - cpu0;
  latencies.sort((a, b) => a - b);
  return {
    target: target.label,
    kind,
    logins: latencies.length,
    failures,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMs: latencies.length ? (cpu / latencies.length) * 1000 : NaN,
    requests: latencies.length ? requests / latencies.length : NaN,
    load: load(),
  };
}

async function run(target) {
  const clientId = await register(target);
  // Warm-up (these people return below too).
  let w = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => oneLogin(target.url, clientId, `w${w}`, `user-w${w++}`)));
  const first = await measure(target, clientId, 'first sign-in', (i) => `user-f${i}`);
  // The people who just signed in for the first time come back (account and consent exist).
  const people = first.logins;
  const returning = await measure(target, clientId, 'returning', (i) => `user-f${i % Math.max(1, people)}`);
  return [first, returning];
}

async function pgSchema() {
  const schema = `bench_login_${randomBytes(4).toString('hex')}`;
  return {
    url: PG_URL,
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

const hs = await startHomeserver();
const rows = [];
const loadBefore = loadavg()[0];
const tmp = mkdtempSync(join(tmpdir(), 'causeway-bench-login-db-'));
/** @type {[string, string, () => Promise<{ url: string, schema?: string, drop: () => Promise<void> }>, boolean][]} */
const all = [
  ['sqlite', 'SQLite (snapshots in the DB)', async () => ({ url: `sqlite://${tmp}/c.db`, drop: async () => {} }), false],
  ['postgres', 'PostgreSQL (snapshots in the DB)', pgSchema, false],
  ['redis', 'PostgreSQL + Redis (snapshots in Redis)', pgSchema, true],
];
for (const [key, label, open, redis] of all.filter(([key]) => TARGETS.includes(key))) {
  const database = await open();
  const cw = await startCauseway(label, database, redis, hs.url);
  try {
    rows.push(...(await run(cw)));
  } finally {
    await cw.stop();
    await database.drop();
  }
}
await hs.close();
rmSync(tmp, { recursive: true, force: true });

console.log(
  `\nLogin benchmark: ${CONCURRENCY} concurrent browsers, ${DURATION}s per target and kind, Node ${process.version}. First sign-in: a new account, link, sessions, consent and code; returning: account and consent exist. Load average before ${loadBefore.toFixed(2)}; the browsers run on the same machine.\n`,
);
console.log(
  table(
    ['target', 'sign-in', 'HTTP requests each', 'logins', 'logins/s', 'p50 ms', 'p99 ms', 'server CPU/login', 'failures', 'load'],
    rows.map((r) => [r.target, r.kind, r.requests.toFixed(0), String(r.logins), r.perSecond.toFixed(1), r.p50.toFixed(0), r.p99.toFixed(0), `${r.cpuMs.toFixed(2)} ms`, String(r.failures), r.load]),
  ),
);
