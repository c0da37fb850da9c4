import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Things written once, that had been copied and had started to drift: each check lists the files
 * that declare or hand-roll the thing, and there must be exactly the one that owns it.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const sources = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
const SRC = sources(join(ROOT, 'src')).map((f) => ({ path: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
const filesMatching = (re: RegExp) => SRC.filter((f) => re.test(f.text)).map((f) => f.path);

describe('declared once', () => {
  it.each(['MappedIdentity', 'MappedLocalpart', 'MappedProfileValue'])('%s: the identity a claims mapping yields (upstream/mapping/mapped-identity.ts)', (name) => {
    expect(filesMatching(new RegExp(`^export (interface|type) ${name}\\b`, 'm'))).toEqual(['src/upstream/mapping/mapped-identity.ts']);
  });

  it('the rate-limit scale (CAUSEWAY_RATE_LIMIT_SCALE) is read by http/rate-limits.ts only', () => {
    expect(filesMatching(/process\.env\.CAUSEWAY_RATE_LIMIT_SCALE/)).toEqual(['src/http/rate-limits.ts']);
  });

  it('`NAME_file` / `NAME_env` references are resolved by config/secret-ref.ts only', () => {
    expect(filesMatching(/`\$\{\w+\}_(file|env)`/)).toEqual(['src/config/secret-ref.ts']);
  });

  it('group commit is written once (storage/group-commit.ts); the outbox store uses it', () => {
    const outbox = SRC.find((f) => f.path === 'src/events/outbox.store.ts')!.text;
    expect(outbox).toMatch(/new GroupCommitter\(/);
    expect(outbox).not.toMatch(/setImmediate\(/);
  });
});
