import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../support/causeway.js';

/**
 * `npm run bench:import -- --quick` runs in CI: 2,000 users seeded into a Synapse-schema PostgreSQL
 * database, imported into PostgreSQL and SQLite, then 1% more and the incremental run. It asserts
 * what was imported, never how fast (the figures are for people to read).
 */
describe('bench:import --quick', () => {
  it('imports every seeded user, device and token on both databases, then only the 1% added', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [join(ROOT, 'bench/import/run.js'), '--quick'], { cwd: ROOT });
      let text = '';
      p.stdout.on('data', (c) => (text += c));
      p.stderr.on('data', (c) => (text += c));
      p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`bench exited ${code}:\n${text}`))));
    });
    const rows = out.split('\n').filter((l) => /^(postgres|sqlite)\s+(full|incremental)\s/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const cols = row.trim().split(/\s{2,}/);
      const [target, run] = cols;
      const [imported, sessions, tokens] = cols.slice(-4, -1);
      expect([target, run, imported, sessions, tokens]).toEqual(run === 'full' ? [target, 'full', '2,000', '6,000', '6,000'] : [target, 'incremental', '20', '80', '80']);
    }
  }, 180_000);
});
