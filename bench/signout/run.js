// Sign-out benchmark: how fast sign-outs reach the homeserver through the outbox and the event bus.
//
//   npm run bench:signout
//   BENCH_MODES=redis-postgres,embedded-sqlite BENCH_OUTAGE_S=60 BENCH_RATE=500 BENCH_RATE_S=20 npm run bench:signout
//
// Per mode (redis-postgres: Redis Streams bus + PostgreSQL, the production shape; embedded-sqlite:
// in-process bus + SQLite, the embedded default), against a forked fake homeserver:
//   baseline: floor-server.js, the same closed loop against a bare server doing per request only
//      what no sign-out can skip (one UPDATE, one homeserver call), in the same run (the machine is
//      shared and its speed varies by the hour).
//   A. sustained: 64 concurrent clients revoke tokens for BENCH_MAX_S seconds; sign-outs/s accepted
//      and delivered (each sign-out is a different user: one homeserver call each).
//   B. latency: BENCH_RATE sign-outs/s (open loop) for BENCH_RATE_S seconds; p50/p99 from sending the
//      revocation to the homeserver receiving sync_devices.
//   C. drain: the homeserver is down (connection refused) for BENCH_OUTAGE_S seconds while
//      BENCH_DRAIN_USERS users sign out BENCH_DRAIN_SESSIONS sessions each (real revocations); then it
//      comes back and we time until every event is confirmed delivered.
// Prints figures and Causeway's CPU time (utime+stime from /proc); asserts nothing.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';
import { stringify } from 'yaml';
import { cpuSeconds, freePort } from '../lib.js';
import { seed, countUndelivered } from './seed.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const MODES = (process.env.BENCH_MODES ?? 'redis-postgres,embedded-sqlite').split(',');
const MAX_S = Number(process.env.BENCH_MAX_S ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const RATE_S = Number(process.env.BENCH_RATE_S ?? 20);
const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? 60);
const DRAIN_USERS = Number(process.env.BENCH_DRAIN_USERS ?? 25_000);
const DRAIN_SESSIONS = Number(process.env.BENCH_DRAIN_SESSIONS ?? 2);
const PHASES = process.env.BENCH_PHASES ?? 'ABC';
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-shared-secret-0123456789abcdef';
const now = () => performance.timeOrigin + performance.now();

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

// ---- processes ---------------------------------------------------------------------------------

async function startHomeserver() {
  const port = await freePort();
  const child = fork(join(HERE, 'fake-homeserver.js'), [String(port), SECRET], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (c) => reject(new Error(`fake homeserver exited ${c}`)));
  });
  const ask = (cmd) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send({ cmd });
    });
  return { child, url: `http://127.0.0.1:${port}/`, down: () => ask('down'), up: () => ask('up'), arrivals: () => ask('arrivals') };
}

async function startRedisServer() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  return { child, url: `redis://127.0.0.1:${port}`, dir };
}

async function startCauseway(mode, hsUrl, redisUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-'));
  const port = await freePort();
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  // PostgreSQL pool: BENCH_PG_POOL (database.pool_size; the default of 10 is for small deployments).
  const database = mode === 'redis-postgres' ? { url: PG_URL, schema, pool_size: Number(process.env.BENCH_PG_POOL ?? 40) } : { url: `sqlite://${dir}/causeway.db` };
  const config = {
    dev_mode: true,
    http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
    database,
    secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
    matrix: { homeserver: 'bench.test', endpoint: hsUrl, secret: SECRET },
    ...(redisUrl ? { redis: { url: redisUrl, key_prefix: 'bench:' } } : {}),
    policy: { allow_insecure_uris: true },
    logging: { level: 'warn' },
    upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] },
  };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(config));
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'serve', '--config', join(dir, 'gateway.yaml')], {
    cwd: dir,
    // BENCH_CW_LOG=<file> keeps Causeway's (JSON) log for a look afterwards.
    stdio: ['ignore', process.env.BENCH_CW_LOG ? openSync(`${process.env.BENCH_CW_LOG}.${mode}`, 'w') : 'ignore', 'inherit'],
    // The revocation endpoint is rate-limited per client IP; the benchmark is one IP.
    env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const drop = async () => {
    if (mode !== 'redis-postgres') return;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  };
  return { child, url, dir, database, drop };
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function registerClient(base) {
  const res = await fetch(`${base}/oauth2/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench',
      client_uri: 'http://localhost:3000',
      redirect_uris: ['http://localhost:3000/cb'],
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  const body = /** @type {{ client_id?: string }} */ (await res.json());
  if (!body.client_id) throw new Error(`client registration answered ${res.status} ${JSON.stringify(body)}`);
  return body.client_id;
}

function revoker(base, clientId) {
  return async (token) => {
    const res = await fetch(`${base}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${token}&token_type_hint=access_token&client_id=${clientId}`,
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`revoke answered ${res.status}`);
  };
}

async function waitDelivered(db, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await countUndelivered(db);
    if (n === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- phases ------------------------------------------------------------------------------------

/** 64 clients revoking back to back for MAX_S seconds: how many were accepted, and the server's CPU. */
async function closedLoop(revoke, tokens, pid) {
  let next = 0;
  let accepted = 0;
  const start = now();
  const end = start + MAX_S * 1000;
  const cpu0 = cpuSeconds(pid);
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (now() < end && next < tokens.length) {
        await revoke(tokens[next++]);
        accepted++;
      }
    }),
  );
  return { start, accepted, seconds: (now() - start) / 1000, cpu0, cpu: cpuSeconds(pid) - cpu0 };
}

async function sustained(ctx, sessions) {
  const loop = await closedLoop(
    revoker(ctx.cw.url, ctx.clientId),
    sessions.map((s) => s.token),
    ctx.cw.child.pid,
  );
  const allIn = await waitDelivered(ctx.db, 120_000);
  const { arrivals } = await ctx.hs.arrivals();
  const last = arrivals.reduce((m, [, at]) => Math.max(m, at), loop.start);
  return {
    accepted: loop.accepted,
    acceptedPerS: loop.accepted / loop.seconds,
    deliveredPerS: arrivals.length / ((last - loop.start) / 1000),
    delivered: arrivals.length,
    allIn,
    // Until every sign-out reached the homeserver: the delivery's CPU counts too.
    cpu: cpuSeconds(ctx.cw.child.pid) - loop.cpu0,
  };
}

/**
 * The baseline, in the same run: floor-server.js does per request only what no sign-out can skip
 * (one durable write, one homeserver call), driven by the same closed loop as phase A.
 */
async function floor(mode, hs) {
  const tokens = Array.from({ length: 40_000 }, () => randomBytes(24).toString('hex'));
  const hashes = tokens.map((t) => createHash('sha256').update(t).digest('hex'));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
  let args;
  let cleanup;
  if (mode === 'redis-postgres') {
    const schema = `bench_floor_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".floor_tokens (token_hash varchar(64) PRIMARY KEY, revoked_at bigint)`);
    for (let i = 0; i < hashes.length; i += 5000) await c.query(`INSERT INTO "${schema}".floor_tokens (token_hash) SELECT unnest($1::varchar[])`, [hashes.slice(i, i + 5000)]);
    await c.query(`ANALYZE "${schema}".floor_tokens`);
    args = ['postgres', PG_URL, schema];
    cleanup = async () => {
      await c.query(`DROP SCHEMA "${schema}" CASCADE`);
      await c.end();
    };
  } else {
    const file = join(dir, 'floor.db');
    const db = new (createRequire(import.meta.url)('better-sqlite3'))(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE floor_tokens (token_hash varchar(64) PRIMARY KEY, revoked_at bigint)');
    const ins = db.prepare('INSERT INTO floor_tokens (token_hash) VALUES (?)');
    db.transaction(() => hashes.forEach((h) => ins.run(h)))();
    db.close();
    args = ['sqlite', file];
    cleanup = async () => undefined;
  }
  const child = fork(join(HERE, 'floor-server.js'), [String(port), hs.url, SECRET, ...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((resolve) => child.once('message', resolve));
  try {
    const loop = await closedLoop(revoker(`http://127.0.0.1:${port}`, 'floor'), tokens, child.pid);
    return { perS: loop.accepted / loop.seconds, cpu: loop.cpu, n: loop.accepted };
  } finally {
    await stop(child);
    await hs.arrivals(); // not Causeway's
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function latency(ctx, sessions) {
  const revoke = revoker(ctx.cw.url, ctx.clientId);
  const total = Math.min(sessions.length, RATE * RATE_S);
  const sentAt = new Map();
  const respLat = [];
  const inflight = new Set();
  let errors = 0;
  const cpu0 = cpuSeconds(ctx.cw.child.pid);
  const start = now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const s = sessions[i];
    const t = now();
    sentAt.set(s.localpart, t);
    const p = revoke(s.token).then(
      () => respLat.push(now() - t),
      () => errors++,
    );
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  }
  const sendS = (now() - start) / 1000;
  await Promise.all(inflight);
  const allIn = await waitDelivered(ctx.db, 120_000);
  const cpu = cpuSeconds(ctx.cw.child.pid) - cpu0;
  const { arrivals } = await ctx.hs.arrivals();
  const lat = [];
  for (const [lp, at] of arrivals) if (sentAt.has(lp)) lat.push(at - sentAt.get(lp));
  lat.sort((a, b) => a - b);
  respLat.sort((a, b) => a - b);
  return { total, achievedRate: total / sendS, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1], n: lat.length, revokeP50: pct(respLat, 50), revokeP99: pct(respLat, 99), errors, allIn, cpu };
}

async function drain(ctx, sessions) {
  const revoke = revoker(ctx.cw.url, ctx.clientId);
  await ctx.hs.down();
  const outageStart = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < sessions.length) await revoke(sessions[next++].token);
    }),
  );
  const signOutS = (now() - outageStart) / 1000;
  const remaining = OUTAGE_S * 1000 - (now() - outageStart);
  if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
  const outageS = (now() - outageStart) / 1000;
  const backlog = await countUndelivered(ctx.db);
  const cpu0 = cpuSeconds(ctx.cw.child.pid);
  await ctx.hs.up();
  const upAt = now();
  const allIn = await waitDelivered(ctx.db, 600_000);
  const drainS = (now() - upAt) / 1000;
  const cpu = cpuSeconds(ctx.cw.child.pid) - cpu0;
  const { arrivals } = await ctx.hs.arrivals();
  const first = arrivals.reduce((m, [, at]) => Math.min(m, at), Infinity);
  return { signOuts: sessions.length, signOutS, outageS, backlog, drainS, eventsPerS: backlog / drainS, calls: arrivals.length, callsPerS: arrivals.length / drainS, firstCallAfterS: (first - upAt) / 1000, allIn, cpu };
}

// ---- main ----------------------------------------------------------------------------------------

const out = [];
for (const mode of MODES) {
  const hs = await startHomeserver();
  const redis = mode === 'redis-postgres' ? await startRedisServer() : undefined;
  const cw = await startCauseway(mode, hs.url, redis?.url);
  try {
    const clientId = await registerClient(cw.url);
    process.stderr.write(`[${mode}] seeding users and sessions…\n`);
    const db = await seed(cw.database, clientId, {
      a: { users: 40_000, sessions: 1 },
      b: { users: RATE * RATE_S, sessions: 1 },
      c: { users: DRAIN_USERS, sessions: DRAIN_SESSIONS },
    });
    const ctx = { hs, cw, db: db.handle, clientId };
    let base, a, b, c;
    if (PHASES.includes('A')) {
      process.stderr.write(`[${mode}] baseline: the floor server for ${MAX_S} s…\n`);
      base = await floor(mode, hs);
      process.stderr.write(`[${mode}] A: sustained sign-outs for ${MAX_S} s…\n`);
      a = await sustained(ctx, db.groups.a);
    }
    if (PHASES.includes('B')) {
      process.stderr.write(`[${mode}] B: ${RATE}/s for ${RATE_S} s…\n`);
      b = await latency(ctx, db.groups.b);
    }
    if (PHASES.includes('C')) {
      process.stderr.write(`[${mode}] C: ${DRAIN_USERS * DRAIN_SESSIONS} sign-outs during a ${OUTAGE_S} s outage, then the drain…\n`);
      c = await drain(ctx, db.groups.c);
    }
    out.push({ mode, base, a, b, c });
    await db.close();
  } finally {
    await stop(cw.child);
    await cw.drop();
    rmSync(cw.dir, { recursive: true, force: true });
    hs.child.kill();
    if (redis) {
      redis.child.kill('SIGKILL');
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }
}

console.log('\nSign-out benchmark (one machine: Causeway, its database, Redis, the fake homeserver and the load generator share the CPUs)\n');
for (const { mode, base, a, b, c } of out) {
  console.log(`== ${mode}`);
  const ms = (cpu, n) => fmt((cpu * 1000) / n, 2);
  if (base) console.log(`baseline (floor-server.js: one UPDATE + one homeserver call per request, nothing else): ${fmt(base.perS)} /s, ${ms(base.cpu, base.n)} ms CPU each`);
  if (a)
    console.log(
      `A. sustained (64 concurrent revokers, ${MAX_S} s): ${fmt(a.acceptedPerS)} sign-outs/s accepted, ${fmt(a.deliveredPerS)} /s delivered to the homeserver (${a.delivered} of ${a.accepted}${a.allIn ? '' : ', NOT all delivered'}); Causeway CPU ${fmt(a.cpu, 1)} s = ${ms(a.cpu, a.accepted)} ms per sign-out, revocation to delivery${base ? ` (${fmt(a.acceptedPerS / base.perS, 2)}× the baseline's rate, ${fmt(a.cpu / a.accepted / (base.cpu / base.n), 2)}× its CPU)` : ''}`,
    );
  if (b)
    console.log(
      `B. at ${RATE}/s for ${RATE_S} s (achieved ${fmt(b.achievedRate)}/s, ${b.total} sign-outs): revoke → homeserver call p50 ${fmt(b.p50, 1)} ms, p99 ${fmt(b.p99, 1)} ms, max ${fmt(b.max, 1)} ms (${b.n} measured); revoke response p50 ${fmt(b.revokeP50, 1)} ms, p99 ${fmt(b.revokeP99, 1)} ms; errors ${b.errors}; Causeway CPU ${fmt(b.cpu, 1)} s = ${ms(b.cpu, b.total)} ms per sign-out`,
    );
  if (c)
    console.log(
      `C. outage ${fmt(c.outageS, 1)} s (${c.signOuts} sign-outs took ${fmt(c.signOutS, 1)} s), backlog ${c.backlog} events of ${DRAIN_USERS} users: drained in ${fmt(c.drainS, 2)} s = ${fmt(c.eventsPerS)} events/s (${c.calls} sync_devices calls, ${fmt(c.callsPerS)} calls/s; first call ${fmt(c.firstCallAfterS, 2)} s after recovery)${c.allIn ? '' : ' NOT all delivered'}; Causeway CPU during drain ${fmt(c.cpu, 1)} s = ${fmt((c.cpu * 1e6) / c.backlog, 0)} µs per event`,
    );
}
process.exit(0);
