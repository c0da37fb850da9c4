// Profiles Causeway's introspection under load: seeds tokens, runs the server with --cpu-prof,
// drives it with autocannon, then prints the functions with the most self time.
//   node bench/introspection/profile.js [sqlite|postgres] [cacheTtl]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stringify } from 'yaml';
import { seedCauseway } from './seed-causeway.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const kind = process.argv[2] ?? 'sqlite';
const cache = Number(process.argv[3] ?? 0);
const dir = mkdtempSync(join(tmpdir(), 'causeway-prof-'));
const db = kind === 'sqlite' ? { url: `sqlite://${dir}/c.db` } : { url: 'postgres://postgres@127.0.0.1:5432/test', schema: `prof_${process.pid}` };
const tokens = await seedCauseway(db, 10000);
const port = 18000 + (process.pid % 1000);
writeFileSync(
  join(dir, 'g.yaml'),
  stringify({
    dev_mode: true,
    http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
    database: { url: db.url, ...(db.schema ? { schema: db.schema } : {}) },
    secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' },
    matrix: { homeserver: 'b.test', endpoint: 'http://127.0.0.1:9/', secret: 'bench-shared-secret-0123456789abcdef' },
    tokens: { introspection_cache_ttl: cache },
    logging: { level: 'warn' },
    upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] },
  }),
);
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, MAIN, 'serve', '--config', join(dir, 'g.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
for (let i = 0; i < 300; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 100));
}
const bodies = tokens.map((t) => `token=${t}&token_type_hint=access_token`);
const r = await autocannon({
  url: `http://127.0.0.1:${port}/oauth2/introspect`,
  method: 'POST',
  connections: 50,
  duration: Number(process.env.PROFILE_DURATION ?? 5),
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer bench-shared-secret-0123456789abcdef', 'x-mas-supports-device-id': '1' },
  requests: [{ setupRequest: (req) => ({ ...req, body: bodies[(Math.random() * bodies.length) | 0] }) }],
});
console.log('req/s', r.requests.average, 'non2xx', r.non2xx);
const exited = new Promise((res) => child.once('exit', res));
child.kill('SIGTERM');
await exited;
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const self = new Map();
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
let total = 0;
for (const n of prof.nodes) {
  const t = dt.get(n.id) ?? 0;
  total += t;
  const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber}`;
  self.set(k, (self.get(k) ?? 0) + t);
}
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 35);
for (const [k, t] of top) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
