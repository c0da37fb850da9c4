import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../support/causeway.js';

/**
 * Every benchmark of issue 19 runs in CI in its quick mode (seconds, small sizes), so that none can
 * rot: each must finish, print its table and count no errors or failures. Nothing here is timed:
 * the figures are for people to read (bench/RESULTS.md holds the full runs).
 */
function runBench(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, script)], { cwd: ROOT, env: { ...process.env, BENCH_QUICK: '1', ...env } });
    let text = '';
    p.stdout.on('data', (c) => (text += c));
    p.stderr.on('data', (c) => (text += c));
    p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${script} exited ${code}:\n${text}`))));
  });
}

/** The rows of the markdown table whose header has `column`, as cells keyed by header. */
function tableRows(out: string, column: string): Record<string, string>[] {
  const lines = out.split('\n');
  const head = lines.findIndex((l) => l.startsWith('|') && l.split('|').some((c) => c.trim() === column));
  if (head < 0) return [];
  const names = lines[head]!.split('|').map((c) => c.trim());
  const rows: Record<string, string>[] = [];
  for (const l of lines.slice(head + 2)) {
    if (!l.startsWith('|')) break;
    const cells = l.split('|').map((c) => c.trim());
    rows.push(Object.fromEntries(names.map((n, i) => [n, cells[i] ?? ''])));
  }
  return rows;
}

describe('benchmarks in quick mode', () => {
  it('bench:introspection answers every request of every target (ceiling, SQLite, PostgreSQL; cached and not)', async () => {
    const rows = tableRows(await runBench('bench/introspection/run.js', {}), 'errors');
    expect(rows.map((r) => r.target)).toEqual(expect.arrayContaining(['Causeway, SQLite, no cache', 'Causeway, PostgreSQL, no cache']));
    for (const r of rows) expect([r.target, r.errors]).toEqual([r.target, '0']);
    // The PostgreSQL backends' CPU was found (by application_name) and reported.
    expect(rows.find((r) => r.target === 'Causeway, PostgreSQL, no cache')?.['PG backend CPU/req']).toMatch(/µs$/);
  }, 300_000);

  it('bench:login completes first and returning sign-ins on SQLite, PostgreSQL and Redis without a failure', async () => {
    const rows = tableRows(await runBench('bench/login/run.js', {}), 'failures');
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      expect([r.target, r['sign-in'], r.failures]).toEqual([r.target, r['sign-in'], '0']);
      expect(Number(r.logins)).toBeGreaterThan(0);
    }
  }, 300_000);

  it('bench:scale loads the bulk rows beside the measured set and measures every operation on both without an error', async () => {
    const out = await runBench('bench/scale/run.js', {});
    const rows = tableRows(out, 'operation');
    expect(rows.map((r) => r.operation)).toEqual(['introspection', 'refresh', 'revocation', 'first sign-in']);
    for (const r of rows) for (const cell of [r['500 tokens'], r['at scale']]) expect(cell).toMatch(/, 0 errors /);
    expect(out).toMatch(/index on access_tokens/);
    expect(out).toMatch(/Schemas dropped\./);
  }, 300_000);

  it('bench:soak runs the mix through a homeserver outage without an error and delivers every event', async () => {
    const out = await runBench('bench/soak/run.js', {});
    expect(tableRows(out, 'outbox backlog').length).toBeGreaterThan(0);
    expect(out).toMatch(/^Errors: 0 /m);
    const events = /Events: (\d+) written to the outbox, (\d+) delivered, 0 dead, backlog 0/.exec(out);
    expect(events?.[1]).toBe(events?.[2]);
    expect(Number(events?.[1])).toBeGreaterThan(0);
  }, 300_000);

  it('bench:memory fills and bounds the introspection cache', async () => {
    const rows = tableRows(await runBench('bench/memory/run.js', {}), 'errors');
    expect(rows.map((r) => [r['answers cached (at most)'], r.errors])).toEqual([
      ['2000', '0'],
      ['500', '0'],
    ]);
  }, 300_000);
});
