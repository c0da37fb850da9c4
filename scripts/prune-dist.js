#!/usr/bin/env node
// Removes compiled files of dist/ whose TypeScript source is gone (a file renamed or deleted in src/):
// tsc never deletes outputs, and a stale module would still be importable from the build.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const src = join(root, 'src');

function prune(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      prune(path);
      continue;
    }
    const m = /^(.*)\.(js|js\.map|d\.ts)$/.exec(name);
    if (!m) continue;
    const source = join(src, relative(dist, dir), `${m[1]}.ts`);
    if (!existsSync(source)) rmSync(path);
  }
}

if (existsSync(dist)) prune(dist);
