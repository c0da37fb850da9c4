// `causeway import synapse` benchmark.
//
//   npm run bench:import                 100,000 users (the issue's sizes), a few minutes
//   npm run bench:import -- --quick      2,000 users, seconds (CI runs this one)
//   BENCH_USERS=20000 BENCH_TARGETS=sqlite npm run bench:import
//   BENCH_PAGE_SIZE=1000 (the import's --page-size)
//
// Seeds a Synapse-schema PostgreSQL database (bench/import/seed-synapse.js): N users, 3N devices
// each with an access token, N refresh tokens, N external ids, N emails. Then, into a fresh
// Causeway database on PostgreSQL and on SQLite:
//   full:        the first `causeway import synapse` (a child process, as an operator runs it);
//   incremental: 1% new rows (N/100 new users with all of the above, and a new device with a token
//                for N/100 existing users), then the second run: the downtime of a migration.
// Per run: wall time, peak RSS and CPU of the import process (/usr/bin/time), and the CPU of the
// PostgreSQL backends serving it (found by application_name, read from /proc), with the load
// average: on a machine shared with other work, wall time measures the machine, CPU the import.
// Prints a table with the targets (full ≤ 120 s, incremental ≤ 10 s, peak RSS ≤ 512 MB at 100,000
// users); asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { cpuSeconds } from '../lib.js';
import { addDevices, createSynapseSchema, dropSchema, IDP, SERVER, seedUsers } from './seed-synapse.js';

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const USERS = Number(process.env.BENCH_USERS ?? (QUICK ? 2_000 : 100_000));
const TARGETS = (process.env.BENCH_TARGETS ?? 'postgres,sqlite').split(',');
/** `--page-size` for the import (users per transaction); unset: the command's default. */
const PAGE_SIZE = process.env.BENCH_PAGE_SIZE ? ['--page-size', process.env.BENCH_PAGE_SIZE] : [];
const PG_URL = process.env.CAUSEWAY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const TARGET_FULL_S = 120;
const TARGET_INCREMENTAL_S = 10;
const TARGET_RSS_MB = 512;

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/**
 * CPU seconds of the PostgreSQL backends serving `causeway-import` connections while `running()`:
 * polled from pg_stat_activity and /proc (the last reading before a backend exits is kept).
 */
function watchBackends(running) {
  const seen = new Map();
  const c = new pg.Client({ connectionString: PG_URL });
  const done = (async () => {
    await c.connect();
    while (running()) {
      const rows = (await c.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'causeway-import'")).rows;
      for (const { pid } of rows) {
        try {
          seen.set(pid, cpuSeconds(pid));
        } catch {
          /* exited meanwhile */
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await c.end();
    return [...seen.values()].reduce((a, b) => a + b, 0);
  })();
  return done;
}

/** Runs the CLI under /usr/bin/time: wall seconds, peak RSS (MB), process and database CPU seconds, stdout. */
function timed(args) {
  return new Promise((resolve, reject) => {
    const load = loadavg()[0];
    const p = spawn('/usr/bin/time', ['-f', 'BENCH_TIME %e %M %U %S', process.execPath, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let running = true;
    const backends = watchBackends(() => running);
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('exit', async (code) => {
      running = false;
      const dbCpu = await backends.catch(() => NaN);
      const m = /BENCH_TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`causeway ${args.join(' ')} exited ${code}:\n${err}\n${out}`));
      resolve({ seconds: Number(m[1]), rssMb: Number(m[2]) / 1024, cpu: Number(m[3]) + Number(m[4]), dbCpu, load: (load + loadavg()[0]) / 2, out });
    });
  });
}

/** The numbers of one row of the summary table (`users`, `devices → sessions`, …). */
function summaryRow(out, label) {
  const line = out.split('\n').find((l) => l.startsWith(label));
  return line ? line.slice(label.length).trim().split(/\s+/) : [];
}

async function causewayTarget(kind, dir) {
  let database;
  let drop = async () => {};
  if (kind === 'sqlite') database = { url: `sqlite://${join(dir, 'causeway.db')}` };
  else {
    const schema = `bench_cw_${Math.random().toString(16).slice(2, 10)}`;
    database = { url: PG_URL, schema };
    drop = async () => dropSchema(PG_URL, schema);
  }
  const config = join(dir, `gateway-${kind}.yaml`);
  writeFileSync(
    config,
    stringify({
      dev_mode: true,
      http: { public_base: 'http://127.0.0.1:8080/', listen: '127.0.0.1:8080' },
      database,
      secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghij' },
      matrix: { homeserver: SERVER, endpoint: 'http://127.0.0.1:9/', secret: 'bench-secret-0123456789abcdef' },
      logging: { level: 'warn' },
      upstream: { providers: [{ id: 'bench', kind: 'oidc', name: 'Bench IdP', issuer: 'https://idp.bench.test', client_id: 'causeway', client_secret: 'x', synapse_idp_id: IDP }] },
    }),
  );
  const migrate = await timed(['migrate', '--config', config]);
  void migrate;
  return { kind, config, drop };
}

async function tableSizes(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const out = {};
  for (const t of ['users', 'devices', 'access_tokens', 'refresh_tokens', 'user_external_ids']) out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  await c.end();
  return out;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-import-'));
  const synapse = await createSynapseSchema(PG_URL);
  const targets = [];
  const results = [];
  try {
    const t0 = performance.now();
    await seedUsers(PG_URL, synapse.schema, 0, USERS, 1);
    const sizes = await tableSizes(synapse.url);
    console.log(
      `seeded Synapse (PostgreSQL, schema version 94) in ${fmt((performance.now() - t0) / 1000)} s: ${Object.entries(sizes)
        .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
        .join(', ')}`,
    );

    for (const kind of TARGETS) targets.push(await causewayTarget(kind, dir));
    for (const t of targets) {
      const r = await timed(['import', 'synapse', '--config', t.config, '--synapse-database', synapse.url, ...PAGE_SIZE]);
      results.push({ target: t.kind, phase: 'full', ...r, users: summaryRow(r.out, 'users')[1], sessions: summaryRow(r.out, 'devices → sessions')[1], tokens: summaryRow(r.out, 'access tokens')[1] });
    }

    const extra = Math.max(1, Math.round(USERS / 100));
    await seedUsers(PG_URL, synapse.schema, USERS, extra, 10_000_000_000);
    await addDevices(PG_URL, synapse.schema, USERS, extra, 20_000_000_000);
    console.log(`added 1%: ${extra.toLocaleString('en-US')} new users (with ${(extra * 3).toLocaleString('en-US')} devices and tokens) and a new device with a token for ${extra.toLocaleString('en-US')} existing users`);
    for (const t of targets) {
      const r = await timed(['import', 'synapse', '--config', t.config, '--synapse-database', synapse.url, ...PAGE_SIZE]);
      results.push({ target: t.kind, phase: 'incremental', ...r, users: summaryRow(r.out, 'users')[1], sessions: summaryRow(r.out, 'devices → sessions')[1], tokens: summaryRow(r.out, 'access tokens')[1] });
    }
  } finally {
    for (const t of targets) await t.drop().catch(() => undefined);
    await dropSchema(PG_URL, synapse.schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }

  const scale = USERS / 100_000;
  const rows = [['target', 'run', 'wall s', 'users/s', 'CPU s (import + db)', 'load avg', 'peak RSS MB', 'imported users', 'sessions', 'tokens', 'target']];
  for (const r of results) {
    const limit = r.phase === 'full' ? TARGET_FULL_S : TARGET_INCREMENTAL_S;
    const ok = r.seconds <= limit && r.rssMb <= TARGET_RSS_MB;
    const usersRead = r.phase === 'full' ? USERS : USERS + Math.round(USERS / 100);
    rows.push([
      r.target,
      r.phase,
      fmt(r.seconds),
      fmt(usersRead / r.seconds, 0),
      `${fmt(r.cpu + r.dbCpu)} (${fmt(r.cpu)} + ${fmt(r.dbCpu)})`,
      fmt(r.load),
      fmt(r.rssMb, 0),
      r.users ?? '?',
      r.sessions ?? '?',
      r.tokens ?? '?',
      scale < 1 ? 'n/a (fewer users)' : `${r.phase === 'full' ? '≤ 120 s' : '≤ 10 s'}, ≤ 512 MB: ${ok ? 'met' : 'MISSED'}`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  console.log(`\ncauseway import synapse, ${USERS.toLocaleString('en-US')} users${QUICK ? ' (quick mode)' : ''}, Synapse on PostgreSQL:`);
  for (const r of rows) console.log(r.map((v, i) => (i < 2 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  '));
}

await main();
