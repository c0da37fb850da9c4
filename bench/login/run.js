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
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { cpuSeconds, freePort, load, percentile, profileSummary, table } from '../lib.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 5));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? (QUICK ? 4 : 8));
const PROFILE = process.env.BENCH_PROFILE === '1';
const TARGETS = (process.env.BENCH_TARGETS ?? 'sqlite,postgres,redis').split(',');
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CAUSEWAY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'bench-shared-secret-0123456789abcdef';
const CLIENT_URI = 'http://localhost:3000';
const REDIRECT = `${CLIENT_URI}/cb`;

/** Just enough of /_synapse/mas/* for sign-ins: users are created (201), everything else succeeds. */
async function startHomeserver() {
  const port = await freePort();
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const created = req.url.startsWith('/_synapse/mas/provision_user');
      res.writeHead(created ? 201 : 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', () => r(undefined)));
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) };
}

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
  const proc = spawn(process.execPath, [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), MAIN, 'serve', '--config', file], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' } });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
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

/** One browser without JavaScript: a cookie jar and manual redirects. */
class Jar {
  cookies = new Map();
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(url, init = {}) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: this.header() } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }
}

const form = (fields) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
const hidden = (html, name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

async function oneLogin(base, clientId, n, username = `user${n}`) {
  const jar = new Jar();
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: `urn:matrix:client:api:* urn:matrix:client:device:BENCH${n}`,
    state: `s${n}`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const auth = await jar.fetch(`${base}/authorize?${q}`);
  const devForm = new URL(auth.headers.get('location'));
  await auth.arrayBuffer();
  const state = devForm.searchParams.get('state');
  let res = await jar.fetch(`${base}/upstream/dev/callback`, form({ state, username }));
  let requests = 3;
  // Follow Causeway's redirects (callback resume, login page) until the client or a page (consent).
  const follow = async () => {
    while (res.status >= 300 && res.status < 400 && !(res.headers.get('location') ?? '').startsWith(REDIRECT)) {
      const next = new URL(res.headers.get('location') ?? '', base).href;
      await res.arrayBuffer();
      res = await jar.fetch(next);
      requests++;
    }
  };
  await follow();
  if (res.status === 200) {
    // The consent page of a first sign-in: allow.
    const html = await res.text();
    res = await jar.fetch(`${res.url.split('?')[0]}/consent`, form({ _csrf: hidden(html, '_csrf'), decision: 'allow' }));
    requests++;
    await follow();
  } else {
    await res.arrayBuffer();
  }
  const location = res.headers.get('location') ?? '';
  if (!location.startsWith(REDIRECT) || !new URL(location).searchParams.get('code')) throw new Error(`login ${n} did not end at the client: ${res.status} ${location}`);
  return requests;
}

async function register(target) {
  const reg = await fetch(`${target.url}/oauth2/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench',
      client_uri: CLIENT_URI,
      redirect_uris: [REDIRECT],
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  return /** @type {{ client_id: string }} */ (await reg.json()).client_id;
}

/** Sign-ins for DURATION seconds by CONCURRENCY browsers; `username(i)` names the i-th person. */
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
  return { target: target.label, kind, logins: latencies.length, failures, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuMs: latencies.length ? (cpu / latencies.length) * 1000 : NaN, requests: latencies.length ? requests / latencies.length : NaN, load: load() };
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

console.log(`\nLogin benchmark: ${CONCURRENCY} concurrent browsers, ${DURATION}s per target and kind, Node ${process.version}. First sign-in: a new account, link, sessions, consent and code; returning: account and consent exist. Load average before ${loadBefore.toFixed(2)}; the browsers run on the same machine.\n`);
console.log(table(['target', 'sign-in', 'HTTP requests each', 'logins', 'logins/s', 'p50 ms', 'p99 ms', 'server CPU/login', 'failures', 'load'], rows.map((r) => [r.target, r.kind, r.requests.toFixed(0), String(r.logins), r.perSecond.toFixed(1), r.p50.toFixed(0), r.p99.toFixed(0), `${r.cpuMs.toFixed(2)} ms`, String(r.failures), r.load])));
