import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/causeway.js';

/**
 * Fault injection is the tests' own: the built server (what the image carries) has named fault
 * points and nothing that acts on them. Only the test harness's preloaded module
 * (test/support/fault-injection.mjs) turns CAUSEWAY_FAULT into a crash.
 */
const FAULT_POINTS = join(ROOT, 'dist/events/fault-points.js');
const PRELOAD = join(ROOT, 'test/support/fault-injection.mjs');

/** Reaches a fault point in a fresh process of the built code; returns how it ended. */
function reachPoint(point: string, nodeArgs: string[]) {
  const script = `const m = await import(${JSON.stringify(FAULT_POINTS)}); m.faultPoint(${JSON.stringify(point)}); console.log('still running');`;
  return spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    env: { ...process.env, CAUSEWAY_FAULT: point },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

function builtFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? builtFiles(join(dir, n)) : n.endsWith('.js') ? [join(dir, n)] : []));
}

describe('fault points', () => {
  it('do nothing in the built server, even with CAUSEWAY_FAULT set', () => {
    const r = reachPoint('after-publish', []);
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain('still running');
  });

  it('no built file reads CAUSEWAY_FAULT', () => {
    const readers = builtFiles(join(ROOT, 'dist')).filter((f) => /process\.env\.CAUSEWAY_FAULT|process\.env\[['"]CAUSEWAY_FAULT/.test(readFileSync(f, 'utf8')));
    expect(readers).toEqual([]);
  });

  it('kill the process at the armed point when the tests preload their module', () => {
    const r = reachPoint('after-publish', ['--import', PRELOAD]);
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).not.toContain('still running');
  });
});
