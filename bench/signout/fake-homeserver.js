// A minimal homeserver for the sign-out benchmark (forked by run.js): answers the /_synapse/mas/*
// calls the bus makes (checking the shared secret) as fast as it can, and reports when each
// sync_devices call arrived. It can go down (connection refused) and come back on the same port.
// The faithful stand-in used by the tests lives in test/support/homeserver-standin.ts; this one
// only has to be cheap, so the figures measure Causeway rather than the fake.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const secret = process.argv[3];
const now = () => performance.timeOrigin + performance.now();
let server;
let arrivals = [];
const counts = {};
const sockets = new Set();

function handle(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    const path = req.url.split('?')[0];
    counts[path] = (counts[path] ?? 0) + 1;
    if (req.headers.authorization !== `Bearer ${secret}`) return void res.writeHead(403).end('{"errcode":"M_UNKNOWN"}');
    if (path === '/_synapse/mas/sync_devices') {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      arrivals.push([body.localpart, at]);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }
    if (path === '/_synapse/mas/delete_device') return void res.writeHead(204).end();
    if (path.startsWith('/_synapse/mas/')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    res.writeHead(404).end();
  });
}

function listen() {
  return new Promise((resolve) => {
    server = createServer(handle);
    server.keepAliveTimeout = 5000;
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
}

process.on('message', async (/** @type {{ cmd: string }} */ m) => {
  if (m.cmd === 'down') {
    await new Promise((r) => {
      server.close(r);
      for (const s of sockets) s.destroy();
    });
    process.send({ ok: 'down' });
  } else if (m.cmd === 'up') {
    await listen();
    process.send({ ok: 'up' });
  } else if (m.cmd === 'arrivals') {
    process.send({ arrivals, counts });
    arrivals = [];
  }
});

await listen();
process.send({ ready: true });
