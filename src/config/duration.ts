import { z } from 'zod';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `300`, `"300"`, `"5m"`, `"2h"`, `"1d"` into whole seconds; undefined when malformed. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

/** A duration in seconds, written as an integer or with a unit (`90s`, `5m`, `2h`, `1d`). */
export const duration = (min = 1) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = parseDuration(v);
    if (s === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as 300, "90s", "5m", "2h" or "1d", got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (s < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${min} second(s)` });
      return z.NEVER;
    }
    return s;
  });
