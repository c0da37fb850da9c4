// The sign-out benchmark's baseline (forked by run.js): the least a sign-out can cost on this
// machine today. Per request it does the irreducible work and nothing else: read the form, hash the
// token, ONE durable write (an UPDATE by token hash, autocommit), ONE homeserver call
// (sync_devices, keep-alive), answer {}. No framework, no outbox, no bus, no batching. Run in the
// same run as Causeway, so the shared machine's mood of the moment applies to both.
//
//   node floor-server.js <port> <homeserver-url> <secret> postgres <pg-url> <schema>
//   node floor-server.js <port> <homeserver-url> <secret> sqlite <file>
import { createServer, Agent, request } from 'node:http';
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [port, hsUrl, secret, kind, target, schema] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

let revoke;
if (kind === 'postgres') {
  const pg = require('pg');
  const pool = new pg.Pool({ connectionString: target, max: 40, options: `-c search_path=${schema}` });
  revoke = async (h, now) => (await pool.query({ name: 'floor_revoke', text: 'UPDATE floor_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL', values: [now, h] })).rowCount;
} else {
  const Database = require('better-sqlite3');
  const db = new Database(target);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const st = db.prepare('UPDATE floor_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL');
  revoke = async (h, now) => st.run(now, h).changes;
}

function syncDevices(localpart) {
  const body = JSON.stringify({ localpart, devices: [] });
  return new Promise((resolve, reject) => {
    const req = request(
      `${hsUrl}_synapse/mas/sync_devices`,
      { method: 'POST', agent, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`homeserver ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const token = form.get('token') ?? '';
      if (await revoke(hash('sha256', token, 'hex'), Date.now())) await syncDevices(form.get('localpart') ?? token.slice(0, 12));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{}');
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
}).listen(Number(port), '127.0.0.1', () => process.send({ ready: true }));
