import { spawn, fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { seed } from '/work/wt/hs-events/bench/signout/seed.js';
const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const port = 18777;
const hsPort = 18778;
const hs = fork('/work/wt/hs-events/bench/signout/fake-homeserver.js', [String(hsPort), 'bench-shared-secret-0123456789abcdef'], { stdio: ['ignore','ignore','ignore','ipc'] });
await new Promise((r) => hs.once('message', r));
const config = { dev_mode: true, http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` }, database: { url: `sqlite://${dir}/c.db` },
 secrets: { encryption_key: 'bench-encryption-key-0123456789abcdefghijkl' }, matrix: { homeserver: 'bench.test', endpoint: `http://127.0.0.1:${hsPort}/`, secret: 'bench-shared-secret-0123456789abcdef' },
 policy: { allow_insecure_uris: true }, logging: { level: process.env.LVL ?? 'warn' }, upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] } };
writeFileSync(join(dir, 'g.yaml'), stringify(config));
const cw = spawn(process.execPath, ['/work/wt/hs-events/dist/main.js', 'serve', '--config', join(dir, 'g.yaml')], { cwd: dir, stdio: 'ignore', env: { ...process.env, CAUSEWAY_RATE_LIMIT_SCALE: '1000' } });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) { try { if ((await fetch(`${url}/health/ready`)).status === 200) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const reg = await (await fetch(`${url}/oauth2/registration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'b', client_uri: 'http://localhost:3000', redirect_uris: ['http://localhost:3000/cb'], application_type: 'web', token_endpoint_auth_method: 'none', grant_types: ['authorization_code','refresh_token'] }) })).json();
console.log(JSON.stringify(reg)); const db = await seed({ url: `sqlite://${dir}/c.db` }, reg.client_id, { a: { users: Number(process.env.N ?? 2000), sessions: 1 } });
const list = db.groups.a;
const t0 = performance.now();
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  const res = await fetch(`${url}/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${list[i].token}&client_id=${reg.client_id}` });
  await res.arrayBuffer();
  if (i % 50 === 0) console.log(i, res.status, (performance.now() - t).toFixed(1), 'ms');
}
console.log('200 sequential revokes', (performance.now() - t0).toFixed(0), 'ms');
cw.kill('SIGKILL'); hs.kill(); process.exit(0);
