import { readFileSync } from 'node:fs';

export interface BuildInfo {
  version: string;
  commit: string;
}

let cached: BuildInfo | undefined;

/**
 * What is running: dist/build-info.json (written by `npm run build`, scripts/build-info.js), or
 * the package version with an unknown commit when running from sources.
 */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  try {
    cached = JSON.parse(readFileSync(new URL('../build-info.json', import.meta.url), 'utf8')) as BuildInfo;
  } catch {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = { version, commit: 'unknown' };
  }
  return cached;
}
