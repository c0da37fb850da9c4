/**
 * `causeway doctor --config FILE`: checks a deployment from the outside, the way an operator would
 * at 2 a.m. — each part a line, ✔ or ✖, and for each ✖ a hint at what to do. Exit code 1 when
 * anything failed. Nothing is changed (except that SQLite creates an empty database file).
 */
export interface CheckResult {
  ok: boolean;
  /** What was checked, e.g. `database`, `upstream corp (saml)`. */
  name: string;
  /** What was found: `postgres, 12 migrations applied`, `unreachable (ECONNREFUSED)`. */
  detail: string;
  /** What to do about a ✖. */
  hint?: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ ok: true, name, detail });
export const fail = (name: string, detail: string, hint: string): CheckResult => ({ ok: false, name, detail, hint });

/** One check; it may report several lines (one per provider) and never throws. */
export type Check = () => Promise<CheckResult[]>;

export async function runChecks(checks: Check[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try {
      results.push(...(await check()));
    } catch (e) {
      results.push(fail('doctor', `a check failed unexpectedly: ${(e as Error).message}`, 'report this as a bug in causeway doctor'));
    }
  }
  return results;
}

export function formatReport(configFile: string, results: CheckResult[]): string {
  const lines = [`causeway doctor: ${configFile}`];
  for (const r of results) {
    lines.push(`${r.ok ? '✔' : '✖'} ${r.name}: ${r.detail}`);
    if (!r.ok && r.hint) lines.push(`    hint: ${r.hint}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(failed ? `${failed} problem${failed > 1 ? 's' : ''} found.` : 'Everything looks right.');
  return `${lines.join('\n')}\n`;
}
