// Helpers every benchmark uses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';

/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
const CLK_TCK = 100;

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });

/** utime + stime of a process (all its threads), in seconds; 0 once it has gone. */
export function cpuSeconds(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size of a process, in MiB. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** "load 1.23 / 2 CPUs": the machine's 1-minute load average, to print beside every figure. */
export const load = () => `load ${loadavg()[0].toFixed(2)} / ${cpus().length} CPUs`;

/**
 * The CPU of the PostgreSQL backends serving one application (connections opened with
 * `application_name`), read from /proc (pg_stat_statements needs a preload library this server may
 * not have). `start()` notes the backends and their CPU; `stop()` returns the seconds they used since,
 * counting in full any backend that appeared in between.
 */
export function pgBackendCpu(client, applicationName) {
  let before = new Map();
  const pids = async () => (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((r) => r.pid);
  return {
    async start() {
      before = new Map((await pids()).map((p) => [p, cpuSeconds(p)]));
    },
    async stop() {
      let total = 0;
      for (const p of new Set([...(await pids()), ...before.keys()])) total += Math.max(0, cpuSeconds(p) - (before.get(p) ?? 0));
      return total;
    },
  };
}

/** Markdown table from a header and rows of strings (first column left-aligned). */
export function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '-').padEnd(w + 1, '-') + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The p-th percentile of an ascending array. */
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * The functions with the most self time in the .cpuprofile files of `dir` (node --cpu-prof), as
 * lines "12.3%  name file:line".
 */
export function profileSummary(dir, top = 30) {
  const self = new Map();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const dt = new Map();
    for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
    for (const n of prof.nodes) {
      const t = dt.get(n.id) ?? 0;
      if (n.callFrame.functionName === '(idle)') continue;
      total += t;
      const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber}`;
      self.set(k, (self.get(k) ?? 0) + t);
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, t]) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

/**
 * Waits until a Causeway started by a benchmark answers /health/ready (every 100 ms, at most
 * `tries` times). @param {string} url @param {number} [tries] @returns {Promise<boolean>}
 */
export async function waitForReady(url, tries = 600) {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return true;
    } catch {
      /* still starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
