import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One minimum Synapse for `matrix.api: synapse-mas`, stated the same everywhere: 1.136, the first
 * release whose `matrix_authentication_service` block lets the shared secret authenticate the
 * `/_synapse/mas/*` API (1.135 had that API only under the experimental msc3861 block, with its
 * admin token). Why: docs/contracts/synapse.md §1.3.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIRS = ['src', 'docs', 'config', 'helm', 'README.md', 'CONTRIBUTING.md'];

function files(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((n) => (n === 'node_modules' ? [] : files(join(path, n))));
}

/** A line about the MAS API or its Synapse block stating a minimum Synapse version. */
const ABOUT_MAS_API = /synapse-mas|\/_synapse\/mas|matrix_authentication_service/;
const MINIMUM = /Synapse\s*(?:≥|>=)\s*1\.(\d+)|Synapse (?:version )?1\.(\d+)(?:\.\d+)? or later|\*\*1\.(\d+)(?:\.\d+)? or later\*\*/g;

describe('the minimum Synapse for the synapse-mas API', () => {
  it('is 1.136 wherever a line about that API states one', () => {
    const stated: string[] = [];
    for (const f of DIRS.flatMap(files).filter((p) => /\.(ts|md|ya?ml|tpl|txt|json)$/.test(p))) {
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!ABOUT_MAS_API.test(line)) return;
          for (const m of line.matchAll(MINIMUM)) stated.push(`${relative(ROOT, join(ROOT, f))}:${i + 1}: 1.${m[1] ?? m[2] ?? m[3]}`);
        });
    }
    expect(stated.length).toBeGreaterThan(3);
    expect(stated.filter((s) => !s.endsWith(': 1.136'))).toEqual([]);
  });
});
