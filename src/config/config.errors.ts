import type { z } from 'zod';

/** One problem in a config file, located by its key path (and line when known). */
export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${formatProblem(p)}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path || '(root)'}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`;
}

/** `['upstream','providers',1,'claims']` → `upstream.providers[1].claims`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/** Turns zod issues into admin-readable problems: one per failing key, unknown keys named. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const valueAt = (path: readonly PropertyKey[]) => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: 'unknown key' });
        break;
      case 'invalid_value':
        out.push({ path: formatPath(path), message: `expected one of ${issue.values.map(String).join('|')}` });
        break;
      case 'invalid_union': {
        const { discriminator: disc, options } = issue as { discriminator?: string; options?: unknown[] };
        if (disc === 'kind') {
          // The kinds come with the issue (the schema's own list, built from the connector table).
          out.push({ path: formatPath(path.at(-1) === 'kind' ? path : [...path, 'kind']), message: `expected one of ${(options ?? []).map(String).join('|')}` });
        } else if (issue.errors?.length) {
          // Report the branch that got furthest (fewest problems).
          const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
          // Branch issues are relative to the union's own position.
          out.push(
            ...issuesToProblems(
              best.map((i) => ({ ...i, path: [...path, ...i.path] })),
              input,
            ),
          );
        } else {
          out.push({ path: formatPath(path), message: issue.message });
        }
        break;
      }
      case 'invalid_type': {
        const got = valueAt(path);
        out.push({
          path: formatPath(path),
          message: got === undefined ? 'required' : `expected ${issue.expected}, got ${describeType(got)}`,
        });
        break;
      }
      default:
        out.push({ path: formatPath(path), message: issue.message });
    }
  }
  return out;
}
