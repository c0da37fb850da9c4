// Introspection benchmark: Causeway (SQLite, PostgreSQL; with and without the in-process cache)
// against a bare Node http server answering fixed JSON (the ceiling) and panva's oidc-provider
// introspecting its own tokens. autocannon drives each target for a few seconds; the server's CPU
// time comes from /proc/<pid>/stat, and on PostgreSQL the CPU of the backends serving Causeway
// (found by application_name in pg_stat_activity) from /proc as well. Prints a table; asserts nothing.
//
// Tracing: the SQLite and PostgreSQL targets without cache also run with OpenTelemetry tracing on
// (every request sampled, spans exported over OTLP/HTTP to otlp-sink.js), beside the same target with
// tracing off (the default), to show what tracing costs when on and that off costs nothing.
// BENCH_TRACING=0 skips them.
//
// All targets run at once and are measured in interleaved rounds (A B C … A B C …); each target's
// best round is reported, with the machine's load average during it. On a small shared machine other
// work only ever slows a round down, so the best of interleaved rounds is the fairest comparison the
// machine allows; compare ratios to the ceiling, not absolute figures.
//
// Before/after in one run: BENCH_BASELINE_DIST=/path/to/other/dist/main.js adds that build's
// uncached targets (labelled "before") against the same databases.
//
//   npm run bench:introspection
//   BENCH_DURATION=5 BENCH_CONNECTIONS=50 BENCH_TOKENS=10000 CAUSEWAY_BENCH_PG_URL=postgres://… npm run bench:introspection
//   BENCH_QUICK=1 (CI: a few hundred tokens, one short round, no oidc-provider, no tracing)
//   BENCH_CACHED=0 (skip the cached targets)  BENCH_OIDC=0 (skip oidc-provider)
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { stringify } from 'yaml';
import { cpuSeconds, freePort, load, pgBackendCpu, table } from '../lib.js';
import { seedCauseway } from './seed-causeway.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 1 : 3));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
// Each measured round is preceded by its own warm-up on that target, so that a cache (Causeway's
// in-process one) is as warm as a continuously used server's would be, whatever ran in between.
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 0.5 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (QUICK ? 8 : 50));
const TOKENS = Number(process.env.BENCH_TOKENS ?? (QUICK ? 300 : 10_000));
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-shared-secret-0123456789abcdef';
const TRACING = process.env.BENCH_TRACING ? process.env.BENCH_TRACING !== '0' : !QUICK;
const OIDC = process.env.BENCH_OIDC ? process.env.BENCH_OIDC !== '0' : !QUICK;
const CACHED = process.env.BENCH_CACHED !== '0';
const BASELINE = process.env.BENCH_BASELINE_DIST;
const pgStats = new pg.Client({ connectionString: PG_URL });
await pgStats.connect();

function forkServer(script, args) {
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, script), args.map(String), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, .../** @type {object} */ (m) }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function startCauseway(label, database, cacheTtl, nodeOptions, tracingEndpoint, main = MAIN, applicationName = undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-'));
  const port = await freePort();
  const config = {
    dev_mode: true,
    http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
    database: { url: applicationName ? `${database.url}?application_name=${applicationName}` : database.url, ...(database.schema ? { schema: database.schema } : {}) },
    secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
    matrix: { homeserver: 'bench.test', endpoint: 'http://127.0.0.1:9/', secret: SECRET },
    tokens: { introspection_cache_ttl: cacheTtl },
    logging: { level: 'warn' },
    ...(tracingEndpoint ? { telemetry: { tracing: { exporter: 'otlp', endpoint: tracingEndpoint, sample_ratio: 1 } } } : {}),
    upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] },
  };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(config));
  const child = spawn(process.execPath, [main, 'serve', '--config', join(dir, 'gateway.yaml')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: nodeOptions ? { ...process.env, NODE_OPTIONS: nodeOptions } : process.env,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) return { child, url, dir, label };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${label} did not start`);
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Checks the target answers `active: true`, warms it up, and returns a function that measures one round. */
async function prepare(label, { url, pid, tokens, headers, applicationName = undefined }) {
  const bodies = tokens.map((t) => `token=${t}&token_type_hint=access_token`);
  const probe = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: bodies[0] });
  const probeBody = /** @type {{ active?: boolean }} */ (await probe.json());
  if (probe.status !== 200 || probeBody.active !== true) throw new Error(`${label}: probe answered ${probe.status} ${JSON.stringify(probeBody)}`);
  const run = (duration) =>
    autocannon({
      url,
      method: 'POST',
      connections: CONNECTIONS,
      duration,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[(Math.random() * bodies.length) | 0] }) }],
    });
  return async () => {
    await run(WARMUP);
    const backend = applicationName ? pgBackendCpu(pgStats, applicationName) : undefined;
    await backend?.start();
    const cpuBefore = cpuSeconds(pid);
    const r = await run(DURATION);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const backendCpu = backend ? await backend.stop() : NaN;
    const ok = r.requests.total - r.non2xx;
    return { label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs: ok ? (cpu / ok) * 1e6 : NaN, pgUs: ok ? (backendCpu / ok) * 1e6 : NaN, errors: r.errors + r.non2xx + r.timeouts, load: load() };
  };
}

async function freshPgSchema() {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
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

const targets = [];
const cleanups = [];
const loadBefore = loadavg()[0];
let results;
try {
  {
    const port = await freePort();
    const { child } = await forkServer('ceiling-server.js', [port]);
    cleanups.push(() => stop(child));
    targets.push(await prepare('bare node:http, fixed JSON (ceiling)', { url: `http://127.0.0.1:${port}/`, pid: child.pid, tokens: ['x'], headers: {} }));
  }
  if (OIDC) {
    const port = await freePort();
    process.stderr.write(`oidc-provider: issuing ${TOKENS} tokens…\n`);
    const { child, tokens } = await forkServer('oidc-provider-server.js', [port, TOKENS]);
    cleanups.push(() => stop(child));
    targets.push(
      await prepare('oidc-provider 9 (in-memory Map adapter)', {
        url: `http://127.0.0.1:${port}/token/introspection`,
        pid: child.pid,
        tokens,
        headers: { authorization: `Basic ${Buffer.from('bench:bench-secret').toString('base64')}` },
      }),
    );
  }
  let otlpEndpoint;
  if (TRACING) {
    const port = await freePort();
    const { child } = await forkServer('otlp-sink.js', [port]);
    cleanups.push(() => stop(child));
    otlpEndpoint = `http://127.0.0.1:${port}/v1/traces`;
  }
  const sqliteDir = mkdtempSync(join(tmpdir(), 'causeway-bench-db-'));
  cleanups.push(() => rmSync(sqliteDir, { recursive: true, force: true }));
  const pgDb = await freshPgSchema();
  cleanups.push(() => pgDb.drop());
  for (const [name, database] of /** @type {[string, { url: string, schema?: string }][]} */ ([
    ['SQLite', { url: `sqlite://${sqliteDir}/causeway.db` }],
    ['PostgreSQL', pgDb],
  ])) {
    process.stderr.write(`Causeway ${name}: seeding ${TOKENS} tokens…\n`);
    const tokens = await seedCauseway(database, TOKENS);
    const variants = [
      ...(BASELINE ? [{ cache: 0, main: BASELINE, before: true }] : []),
      { cache: 0 },
      ...(TRACING ? [{ cache: 0, tracing: otlpEndpoint }] : []),
      ...(CACHED ? [{ cache: 10 }] : []),
      ...(CACHED && process.env.BENCH_NODE_OPTIONS ? [{ cache: 10, nodeOptions: process.env.BENCH_NODE_OPTIONS }] : []),
    ];
    for (const { cache, nodeOptions, tracing, main, before } of variants) {
      const label = `Causeway${before ? ' (before)' : ''}, ${name}${cache ? `, ${cache}s in-process cache` : ', no cache'}${tracing ? ', tracing on (OTLP, all sampled)' : ''}${nodeOptions ? `, ${nodeOptions}` : ''}`;
      const applicationName = name === 'PostgreSQL' ? `causeway_bench_${randomBytes(4).toString('hex')}` : undefined;
      const cw = await startCauseway(label, database, cache, nodeOptions, tracing, main, applicationName);
      cleanups.push(() => stop(cw.child));
      cleanups.push(() => rmSync(cw.dir, { recursive: true, force: true }));
      targets.push(await prepare(label, { url: `${cw.url}/oauth2/introspect`, pid: cw.child.pid, tokens, headers: { authorization: `Bearer ${SECRET}`, 'x-mas-supports-device-id': '1' }, applicationName }));
    }
  }
  const rounds = targets.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`round ${r + 1}/${ROUNDS}…\n`);
    for (let i = 0; i < targets.length; i++) rounds[i].push(await targets[i]());
  }
  results = rounds.map((rs) => rs.reduce((best, x) => (x.rps > best.rps ? x : best)));
} finally {
  for (const c of cleanups.reverse())
    await Promise.resolve()
      .then(c)
      .catch(() => undefined);
}

await pgStats.end();

const ceiling = results[0].rps;
const rows = results.map((r) => [
  r.label,
  r.rps.toFixed(0),
  `${r.p50} ms`,
  `${r.p99} ms`,
  `${r.cpuUs.toFixed(0)} µs`,
  Number.isNaN(r.pgUs) ? '' : `${r.pgUs.toFixed(0)} µs`,
  `${(r.rps / ceiling).toFixed(2)}×`,
  String(r.errors),
  r.load,
]);
console.log(`\nIntrospection, ${TOKENS} live tokens, ${CONNECTIONS} connections, best of ${ROUNDS} interleaved rounds of ${DURATION} s per target (each after a ${WARMUP} s warm-up), Node ${process.version}`);
console.log(table(['target', 'req/s', 'p50', 'p99', 'server CPU/req', 'PG backend CPU/req', 'vs ceiling', 'errors', 'load during the round'], rows));
console.log('\nTargets (issue 19): uncached ≥ 0.5× the ceiling on both databases; ≤ 70 µs server CPU per request on PostgreSQL. "PG backend CPU/req": the PostgreSQL backends serving that Causeway, from /proc.');
if (TRACING)
  console.log(
    'Tracing off is the default (telemetry.tracing.exporter: none): the rows without "tracing on" are it. "tracing on": a server span and a span per database statement for every request, batched to an OTLP/HTTP sink.',
  );
console.log(`Load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0].toFixed(2)} on ${(await import('node:os')).cpus().length} CPUs; the load generator shares the machine.`);
