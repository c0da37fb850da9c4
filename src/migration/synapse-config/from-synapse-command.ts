import { writeFileSync } from 'node:fs';
import { configFromSynapse, type FromSynapseResult } from './config-from-synapse.js';
import { HomeserverConfigError, readHomeserverConfig } from './homeserver-config.js';

/** What the operator does with the result: untranslated items, secret files, the homeserver.yaml change. */
export function formatFromSynapseReport(r: FromSynapseResult, out: string | undefined): string {
  const lines: string[] = [];
  if (out) lines.push(`wrote ${out}`);
  if (r.untranslated.length) {
    lines.push('', `not translated (${r.untranslated.length}):`, ...r.untranslated.map((u) => `  ${u.path}: ${u.reason}`));
  } else lines.push('', 'everything in the SSO configuration was translated');
  lines.push('', 'create these files before `causeway config check`:', ...r.secretFiles.map((s) => `  ${s.path}: ${s.what}`));
  if (r.atTheIdps.length) lines.push('', 'before switching, register Causeway at the IdPs (http.public_base as written):', ...r.atTheIdps.map((l) => `  ${l}`));
  lines.push('', 'when switching, add to homeserver.yaml:', '', ...r.homeserverBlock.split('\n').map((l) => `  ${l}`));
  if (r.removeFromHomeserver.length) lines.push('', 'and remove from it (Synapse refuses them once auth is delegated):', ...r.removeFromHomeserver.map((k) => `  ${k}`));
  return `${lines.join('\n')}\n`;
}

export function fromSynapseCommand(o: { synapseConfig: string; out?: string; secretsDir: string }): number {
  try {
    const result = configFromSynapse(readHomeserverConfig(o.synapseConfig), { secretsDir: o.secretsDir });
    if (o.out) {
      writeFileSync(o.out, result.yaml);
      process.stdout.write(formatFromSynapseReport(result, o.out));
    } else {
      process.stdout.write(result.yaml);
      process.stderr.write(formatFromSynapseReport(result, undefined));
    }
    return 0;
  } catch (e) {
    if (e instanceof HomeserverConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
