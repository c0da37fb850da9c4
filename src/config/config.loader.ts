import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import type { GatewayConfig } from './config.schema.js';
import { ConfigError, issuesToProblems, type ConfigProblem } from './config.errors.js';
import { parseOptions } from './secret-ref.js';

/**
 * A schema of the whole file. The caller gives the one composed with the provider kinds
 * (upstream/gateway-config.schema.ts): config/ does not know them.
 */
type ConfigSchema = z.ZodType<GatewayConfig>;

/** Parses YAML text into a validated config, or throws ConfigError listing every problem with its key path and line. */
export function parseConfig<S extends ConfigSchema>(text: string, schema: S, file = 'config'): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}`, line: e.linePos?.[0]?.line })),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a mapping of sections (http, matrix, upstream, ...)' }]);
  }
  applyEnvironmentDefaults(raw as Record<string, unknown>);
  parseOptions.devMode = (raw as Record<string, unknown>).dev_mode === true;
  try {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    const problems: ConfigProblem[] = issuesToProblems(result.error.issues, raw).map((p) => ({ ...p, line: p.line ?? lineOf(p.path) }));
    throw new ConfigError(file, dedupe(problems));
  } finally {
    parseOptions.devMode = false;
  }

  function lineOf(path: string): number | undefined {
    const segs = path
      .split(/\.|\[(\d+)\]/)
      .filter((s) => s !== undefined && s !== '')
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    for (let n = segs.length; n > 0; n--) {
      const node = doc.getIn(segs.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  }
}

/**
 * Defaults a deployment sets for files that leave a key out: `CAUSEWAY_HTTP_LISTEN` is `http.listen`
 * unless the file gives one (the container image sets 0.0.0.0:8080, so `docker run -p 8080:8080`
 * reaches the server; elsewhere the default stays 127.0.0.1:8080).
 */
function applyEnvironmentDefaults(raw: Record<string, unknown>): void {
  const listen = process.env.CAUSEWAY_HTTP_LISTEN;
  const http = raw.http;
  if (listen && typeof http === 'object' && http !== null && !Array.isArray(http) && (http as Record<string, unknown>).listen === undefined) {
    (http as Record<string, unknown>).listen = listen;
  }
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function loadConfigFile<S extends ConfigSchema>(file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  return parseConfig(text, schema, file);
}
