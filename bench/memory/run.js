// Memory benchmark: Causeway's resident memory with its introspection cache full. Seeds N live
// access tokens (SQLite), then introspects every one once through two servers on that database:
// one whose cache may hold all N answers (tokens.introspection_cache_max_entries = N), giving the
// RSS at N cached tokens and the bytes per answer, and one bounded to N/4, whose RSS must stay
// below the first's. Prints a table with the machine load; asserts nothing.
//
//   npm run bench:memory
//   BENCH_TOKENS=100000 npm run bench:memory       BENCH_QUICK=1 (CI: 2,000 tokens)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stringify } from 'yaml';
import { freePort, load, rssMiB, table, waitForReady } from '../lib.js';
import { seedCauseway } from '../introspection/seed-causeway.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const QUICK = process.env.BENCH_QUICK === '1';
const N = Number(process.env.BENCH_TOKENS ?? (QUICK ? 2000 : 100_000));
const SECRET = 'bench-shared-secret-0123456789abcdef';

async function startCauseway(dir, dbUrl, maxEntries) {
  const port = await freePort();
  writeFileSync(
    join(dir, `g${maxEntries}.yaml`),
    stringify({
      dev_mode: true,
      http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
      database: { url: dbUrl },
      secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
      matrix: { homeserver: 'bench.test', endpoint: 'http://127.0.0.1:9/', secret: SECRET },
      tokens: { introspection_cache_ttl: 3600, introspection_cache_max_entries: maxEntries },
      logging: { level: 'warn' },
      upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] },
    }),
  );
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', join(dir, `g${maxEntries}.yaml`)], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  if (await waitForReady(url, 300)) return { child, url };
  throw new Error('Causeway did not start');
}

/** Introspects every token once (each connection takes the next), then a second pass (all hits or evictions). */
async function introspectAll(url, tokens) {
  let next = 0;
  const r = await autocannon({
    url: `${url}/oauth2/introspect`,
    method: 'POST',
    connections: 32,
    amount: tokens.length,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${SECRET}`, 'x-mas-supports-device-id': '1' },
    requests: [{ setupRequest: (req) => ({ ...req, body: `token=${tokens[next++ % tokens.length]}&token_type_hint=access_token` }) }],
  });
  return { errors: r.errors + r.non2xx + r.timeouts };
}

const dir = mkdtempSync(join(tmpdir(), 'causeway-bench-mem-'));
const dbUrl = `sqlite://${dir}/c.db`;
const rows = [];
try {
  process.stderr.write(`seeding ${N} tokens…\n`);
  const tokens = await seedCauseway({ url: dbUrl }, N);
  for (const maxEntries of [N, Math.max(1, Math.floor(N / 4))]) {
    const cw = await startCauseway(dir, dbUrl, maxEntries);
    try {
      await introspectAll(cw.url, tokens.slice(0, 100)); // warm: code paths compiled, pools open
      const before = rssMiB(cw.child.pid);
      const { errors } = await introspectAll(cw.url, tokens);
      await new Promise((r) => setTimeout(r, 1000));
      const after = rssMiB(cw.child.pid);
      const cached = Math.min(N, maxEntries);
      rows.push([`max_entries ${maxEntries}`, String(N), String(cached), `${before.toFixed(0)} MiB`, `${after.toFixed(0)} MiB`, `${(((after - before) * 1024 * 1024) / cached).toFixed(0)} B`, String(errors), load()]);
    } finally {
      const exited = new Promise((r) => cw.child.once('exit', r));
      cw.child.kill('SIGTERM');
      await exited;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nIntrospection cache memory, ${N} distinct live tokens introspected once each, Node ${process.version}`);
console.log(table(['server', 'tokens introspected', 'answers cached (at most)', 'RSS before', 'RSS after', 'RSS per cached answer', 'errors', 'load'], rows));
console.log('\nThe estimate the cache bounds itself by (tokens.introspection_cache_max_bytes) is entryBytes() in src/oauth2/introspect/introspection-cache.ts.');
