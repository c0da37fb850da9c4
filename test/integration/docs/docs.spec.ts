import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../support/causeway.js';

/**
 * The documentation CI builds: the configuration reference is generated from the schema's
 * descriptions (and must match it), and the static site builds from the repository alone, failing
 * on any link to a missing page or heading.
 */
const node = (args: string[], cwd = ROOT) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });

describe('documentation', () => {
  it('docs/reference/configuration.md is what the config schema generates (drift check)', () => {
    const r = node(['scripts/config-reference.js', '--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const reference = readFileSync(join(ROOT, 'docs/reference/configuration.md'), 'utf8');
    // Every section and a sample of keys of the schema, with their descriptions.
    for (const key of ['`http.public_base`', '`matrix.api`', '`tokens.access_token_ttl`', '`upstream.providers[]` with `kind: saml`', '`events.max_attempts`']) expect(reference).toContain(key);
  });

  it('the site builds offline into HTML pages, one per document, with every link resolved', () => {
    const out = mkdtempSync(join(tmpdir(), 'causeway-site-'));
    try {
      const r = node(['scripts/docs-site.js', '--out', out]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      for (const page of ['index.html', 'architecture.html', 'reference/configuration.html', 'contracts/synapse.html', 'operator/install.html', 'decisions/index.html', 'CONTRIBUTING.html']) {
        expect([page, existsSync(join(out, page))]).toEqual([page, true]);
      }
      const arch = readFileSync(join(out, 'operator/homeserver.html'), 'utf8');
      expect(arch).toContain('href="../architecture.html#a-sign-out-step-by-step"');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('the site build fails on a link to a missing page or heading', () => {
    const root = mkdtempSync(join(tmpdir(), 'causeway-site-src-'));
    try {
      mkdirSync(join(root, 'scripts'));
      cpSync(join(ROOT, 'scripts/docs-site.js'), join(root, 'scripts/docs-site.js'));
      cpSync(join(ROOT, 'docs'), join(root, 'docs'), { recursive: true });
      cpSync(join(ROOT, 'CONTRIBUTING.md'), join(root, 'CONTRIBUTING.md'));
      cpSync(join(ROOT, 'LICENSE'), join(root, 'LICENSE'));
      symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
      appendFileSync(join(root, 'docs/index.md'), '\n[gone](operator/no-such-guide.md) and [moved](architecture.md#no-such-heading)\n');
      const r = node(['scripts/docs-site.js'], root);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('docs/index.md: link to operator/no-such-guide.md: no such file');
      expect(r.stderr).toContain('docs/index.md: link to architecture.md#no-such-heading: no heading "#no-such-heading" there');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
