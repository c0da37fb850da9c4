import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository stands alone: no file may point at a document outside it (the design notes and
 * contracts it was first written from now live in docs/, in the project's own words), and every
 * document a file points at inside it exists. Cheap: it reads the tracked text files once.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKIP_DIRS = new Set(['.git', 'node_modules', 'dist', '.tools', '.state', '.tmp', 'data', 'coverage', '.vitepress']);
const TEXT = /\.(ts|js|mjs|cjs|json|md|ya?ml|tpl|txt|sh|liquid|toml)$|^(Dockerfile|\.dockerignore|\.gitignore|\.editorconfig|run|dev|ensure-helm)$/;
const SKIP_FILES = new Set(['package-lock.json']);

function textFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name) && !(name === 'cache' && dir.endsWith('.vitepress'))) textFiles(path, out);
    } else if (TEXT.test(name) && !SKIP_FILES.has(name)) {
      out.push(path);
    }
  }
  return out;
}

/** This file spells out what it looks for, so it is not among the files checked. */
const SELF = relative(ROOT, fileURLToPath(import.meta.url));
const files = textFiles(ROOT)
  .map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }))
  .filter((f) => f.path !== SELF);

/** Lines of `text` matching `re`, as `file:line: text`. */
function hits(re: RegExp): string[] {
  const found: string[] = [];
  for (const f of files) {
    f.text.split('\n').forEach((line, i) => {
      if (re.test(line)) found.push(`${f.path}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

/** The documents Causeway was first written from, outside the repository. */
const outside = ['DESIGN\\.md', 'STYLE\\.md', 'synapse-mas\\.md', 'matrix-oauth-client-api\\.md', '\\.\\./shared', '/work/shared'];

describe('the repository stands alone', () => {
  it('has text files to check (the walk found the sources)', () => {
    expect(files.some((f) => f.path === join('src', 'main.ts'))).toBe(true);
    expect(files.length).toBeGreaterThan(300);
  });

  it.each(outside)('no file names %s', (pattern) => {
    expect(hits(new RegExp(pattern))).toEqual([]);
  });

  it('no file cites a design section that only the old design notes had ("DESIGN §n", "STYLE.md")', () => {
    expect(hits(/\bDESIGN §|\bSTYLE\b.*"What Causeway takes"/)).toEqual([]);
  });

  it("every path of this repository's docs/ (or CONTRIBUTING.md, LICENSE) a file names exists", () => {
    const missing: string[] = [];
    for (const f of files) {
      for (const m of f.text.matchAll(/(?<![\w./-])(docs\/(?:(?:operator|contracts|decisions|reference)\/[\w.-]+|architecture|index)\.md|CONTRIBUTING\.md|LICENSE)\b/g)) {
        if (!existsSync(join(ROOT, m[1]!))) missing.push(`${f.path}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every "<folder>/README" a source comment names exists', () => {
    const missing: string[] = [];
    for (const f of files.filter((x) => /^(src|test|bench|scripts)\//.test(x.path))) {
      for (const m of f.text.matchAll(/\b([\w-]+)\/README\b(\.md)?/g)) {
        const candidates = [join(dirname(f.path), m[1]!, 'README.md'), join(dirname(f.path), '..', m[1]!, 'README.md'), join(m[1]!, 'README.md')];
        if (!candidates.some((c) => existsSync(join(ROOT, c)))) missing.push(`${f.path}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every README "Section" a file names is a heading of README.md', () => {
    const headings = new Set(
      readFileSync(join(ROOT, 'README.md'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .map((l) => l.replace(/^#+\s*/, '')),
    );
    const missing: string[] = [];
    for (const f of files) {
      for (const m of f.text.matchAll(/README(?:'s)? "([^"]+)"/g)) {
        if (!headings.has(m[1]!)) missing.push(`${f.path}: README "${m[1]}"`);
      }
    }
    expect(missing).toEqual([]);
  });
});
