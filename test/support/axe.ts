import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export type Impact = 'minor' | 'moderate' | 'serious' | 'critical';

export interface AxeViolation {
  id: string;
  impact: Impact | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (the npm package, injected into the page) on the whole document: every rule of
 * WCAG 2.0/2.1/2.2 A and AA plus axe's best practices. The page's own CSP must allow the script
 * (served pages: a context with `bypassCSP`; `setContent` pages have no CSP).
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = (await page.evaluate(`axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    resultTypes: ['violations'],
  }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`)) as AxeViolation[];
  return result;
}

/** Per impact, how many violations (each rule × element counts once). */
export function countByImpact(violations: AxeViolation[]): Record<Impact, number> {
  const out: Record<Impact, number> = { minor: 0, moderate: 0, serious: 0, critical: 0 };
  for (const v of violations) out[v.impact ?? 'minor'] += v.nodes.length;
  return out;
}

/** The four ways the accessibility tests look at each page. */
export const AXE_MODES = [
  { name: 'light desktop', colorScheme: 'light', viewport: { width: 1280, height: 800 } },
  { name: 'dark desktop', colorScheme: 'dark', viewport: { width: 1280, height: 800 } },
  { name: 'light mobile', colorScheme: 'light', viewport: { width: 390, height: 844 } },
  { name: 'dark mobile', colorScheme: 'dark', viewport: { width: 390, height: 844 } },
] as const;
export type AxeMode = (typeof AXE_MODES)[number]['name'];

export interface AxeRow {
  page: string;
  mode: AxeMode;
  counts: Record<Impact, number>;
}

/** The printed report: one line per page and mode, then the totals. */
export function axeTable(title: string, rows: AxeRow[]): string {
  const line = (page: string, mode: string, c: Record<Impact, number>) =>
    `${page.padEnd(40)} ${mode.padEnd(14)} ${String(c.critical).padStart(8)} ${String(c.serious).padStart(7)} ${String(c.moderate).padStart(8)} ${String(c.minor).padStart(5)}`;
  const total: Record<Impact, number> = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const r of rows) for (const k of Object.keys(total) as Impact[]) total[k] += r.counts[k];
  return [`${title}: ${rows.length} axe runs`, `${'page'.padEnd(40)} ${'mode'.padEnd(14)} critical serious moderate minor`, ...rows.map((r) => line(r.page, r.mode, r.counts)), line('total', '', total)].join('\n');
}

/** Serious and critical violations as one line each (what the tests assert is empty). */
export function seriousLines(page: string, mode: string, violations: AxeViolation[]): string[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${page} [${mode}] ${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
