#!/usr/bin/env node
// Writes dist/build-info.json: the version (package.json) and the commit built, shown by
// `causeway --version` and the metric causeway_build_info. The commit comes from CAUSEWAY_COMMIT
// (the image build passes it as a build argument) or from git, else "unknown".
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let commit = process.env.CAUSEWAY_COMMIT?.trim();
if (!commit) {
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    commit = 'unknown';
  }
}
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify({ version, commit })}\n`);
