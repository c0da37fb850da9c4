// SAML federation aggregate benchmark: how long reading and checking a signed 5,000-IdP aggregate
// of about 50 MB takes with the shipped code (dist/upstream/saml/federation: one streaming pass that
// canonicalises and digests the document, checks the signature and collects the IdPs), and what it
// costs in memory, in process and in the worker thread the server uses. The aggregate is generated
// here (bench/saml-federation/aggregate.js, eduGAIN-shaped entities) and signed with xmlsec1 by the
// test federation key. Prints figures and the machine load; asserts nothing.
//
//   npm run bench:saml-federation                 (BENCH_ENTITIES=5000, BENCH_ROUNDS=3)
//   npm run bench:saml-federation -- --dom        also a DOM parse (@xmldom/xmldom) of a 10% slice, for comparison
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DOMParser } from '@xmldom/xmldom';
import { aggregateXml, certBody, syntheticIdp } from './aggregate.js';
import { decodeChunks, readAggregate } from '../../dist/upstream/saml/federation/aggregate-reader.js';
import { parseAggregateInWorker } from '../../dist/upstream/saml/federation/aggregate-parser.js';

const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FIX = fileURLToPath(new URL('../../test/fixtures/saml/', import.meta.url));
const read = (f) => readFileSync(FIX + f, 'utf8');
const signer = { key: read('metadata-signer.key'), cert: read('metadata-signer.crt') };
const certs = ['idp', 'idp-next', 'sp', 'sp-other'].map((n) => certBody(read(`${n}.crt`)));
const MiB = 2 ** 20;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average before: ${load()}`);
let t = performance.now();
const entities = [];
for (let i = 0; i < ENTITIES; i++) entities.push(syntheticIdp(i, { certs }));
const xml = aggregateXml({ entities, signer, tool: 'xmlsec1', validUntil: Date.now() + 86_400_000 });
const bytes = new Uint8Array(Buffer.from(xml));
entities.length = 0;
console.log(`aggregate: ${ENTITIES} IdPs, ${(bytes.length / MiB).toFixed(1)} MiB, generated and signed (xmlsec1) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const opts = { signingCert: signer.cert, now: Date.now(), requireValidUntil: true };

const rows = [];
for (let r = 1; r <= ROUNDS; r++) {
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const cpu0 = process.cpuUsage();
  t = performance.now();
  const data = readAggregate(decodeChunks(bytes), opts);
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  clearInterval(sampler);
  const heapAfter = process.memoryUsage().heapUsed;
  rows.push({ mode: `in process #${r}`, idps: data.entities.length, wallMs: wall, cpuMs: (cpu.user + cpu.system) / 1000, heapMiB: (heapAfter - heapBefore) / MiB, rssMiB: peakRss / MiB });
}
for (let r = 1; r <= ROUNDS; r++) {
  const cpu0 = process.cpuUsage();
  const res = await parseAggregateInWorker(bytes, opts, { timeoutSeconds: 600, memoryMb: 512 });
  const cpu = process.cpuUsage(cpu0);
  rows.push({ mode: `worker #${r}`, idps: res.data.entities.length, wallMs: res.wallMs, cpuMs: res.cpuMs, heapMiB: res.heapUsedMb, rssMiB: process.memoryUsage().rss / MiB, mainCpuMs: (cpu.user + cpu.system) / 1000 });
}
console.log("\nreading and checking the aggregate (heap: retained by the result in process; the worker's heap in use at the end in the worker):");
console.log('| mode | IdPs | wall ms | CPU ms | MiB/s (CPU) | heap MiB | RSS MiB |');
console.log('|---|---|---|---|---|---|---|');
for (const x of rows) {
  console.log(
    `| ${x.mode} | ${x.idps} | ${x.wallMs.toFixed(0)} | ${x.cpuMs.toFixed(0)}${x.mainCpuMs !== undefined ? ` (whole process ${x.mainCpuMs.toFixed(0)})` : ''} | ${(bytes.length / MiB / (x.cpuMs / 1000)).toFixed(1)} | ${x.heapMiB.toFixed(0)} | ${x.rssMiB.toFixed(0)} |`,
  );
}

if (process.argv.includes('--dom')) {
  const slice = aggregateXml({ entities: Array.from({ length: Math.round(ENTITIES / 10) }, (_, i) => syntheticIdp(i, { certs })) });
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  t = performance.now();
  const doc = new DOMParser().parseFromString(slice, 'text/xml');
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `\nfor comparison, a DOM (@xmldom/xmldom) of a 10% slice (${(slice.length / MiB).toFixed(1)} MiB): ${(performance.now() - t).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, RSS +${((process.memoryUsage().rss - rss0) / MiB).toFixed(0)} MiB (${doc.documentElement?.childNodes.length} nodes under the root), without canonicalisation or the signature check`,
  );
}
console.log(`\nload average after: ${load()}`);
