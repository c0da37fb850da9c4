// Login benchmark: complete interactive sign-ins per second through Causeway's login machine
// (/authorize → dev sign-in form → upstream callback → consent page → Allow → code), each a first
// sign-in of a new person (account + link + upstream and browser sessions + consent + code), with
// the machine's snapshot in SQLite, PostgreSQL, or Redis. A minimal homeserver answers the
// provisioning calls. Prints a table; asserts nothing.
//
//   npm run bench:login
//   BENCH_DURATION=10 BENCH_CONCURRENCY=16 npm run bench:login
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { freePort } from '../lib.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
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
  const proc = spawn(process.execPath, [MAIN, 'serve', '--config', file], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' } });
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
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
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

async function oneLogin(base, clientId, n) {
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
  const cb = await jar.fetch(`${base}/upstream/dev/callback`, form({ state, username: `user${n}` }));
  const loginUrl = new URL(cb.headers.get('location'), base).href;
  await cb.arrayBuffer();
  const consent = await jar.fetch(loginUrl);
  const html = await consent.text();
  const csrf = hidden(html, '_csrf');
  const done = await jar.fetch(`${loginUrl}/consent`, form({ _csrf: csrf, decision: 'allow' }));
  await done.arrayBuffer();
  const location = done.headers.get('location') ?? '';
  if (!location.startsWith(REDIRECT) || !new URL(location).searchParams.get('code')) throw new Error(`login ${n} did not end at the client: ${done.status} ${location}`);
}

async function run(target) {
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
  const { client_id: clientId } = /** @type {{ client_id: string }} */ (await reg.json());
  let n = 0;
  // Warm-up.
  await Promise.all(Array.from({ length: CONCURRENCY }, () => oneLogin(target.url, clientId, `w${n++}`)));
  const latencies = [];
  let failures = 0;
  const end = Date.now() + DURATION * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        try {
          await oneLogin(target.url, clientId, n++);
          latencies.push(performance.now() - t0);
        } catch (e) {
          failures++;
          if (failures === 1) console.error(`${target.label}: ${e.message}`);
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { target: target.label, logins: latencies.length, failures, perSecond: latencies.length / seconds, p50: pct(50), p99: pct(99) };
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
const load = loadavg()[0];
const tmp = mkdtempSync(join(tmpdir(), 'causeway-bench-login-db-'));
/** @type {[string, { url: string, schema?: string, drop: () => Promise<void> }, boolean][]} */
const targets = [
  ['SQLite (snapshots in the DB)', { url: `sqlite://${tmp}/c.db`, drop: async () => {} }, false],
  ['PostgreSQL (snapshots in the DB)', await pgSchema(), false],
  ['PostgreSQL + Redis (snapshots in Redis)', await pgSchema(), true],
];
for (const [label, database, redis] of targets) {
  const cw = await startCauseway(label, database, redis, hs.url);
  try {
    rows.push(await run(cw));
  } finally {
    await cw.stop();
    await database.drop();
  }
}
await hs.close();
rmSync(tmp, { recursive: true, force: true });

console.log(`\nLogin benchmark: ${CONCURRENCY} concurrent browsers, ${DURATION}s per target, 5 HTTP requests per login (first sign-in each), load average before ${load.toFixed(2)}\n`);
console.log('| target | logins | logins/s | p50 ms | p99 ms | failures |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.target} | ${r.logins} | ${r.perSecond.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.failures} |`);
