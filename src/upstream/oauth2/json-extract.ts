/**
 * Reading values out of an API's JSON answer by dotted paths (`id`, `data.user.id`, `emails.0`),
 * own properties only (a key named `__proto__` or `constructor` is just a missing value). Pure.
 */

const MAX_ITEMS = 500;
const MAX_VALUE_LENGTH = 4096;

export function valueAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const segment of path.split('.')) {
    if (Array.isArray(cur)) {
      if (!/^\d{1,4}$/.test(segment)) return undefined;
      cur = cur[Number(segment)];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, segment)) {
      cur = (cur as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Text of a scalar (numbers and booleans as JSON writes them); undefined for anything else or an over-long string. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= MAX_VALUE_LENGTH ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

export interface Extraction {
  value: string;
  where?: Record<string, string | number | boolean>;
}

/**
 * The values at `value` of every item of `doc` (an array, or one object counted as one item) that
 * matches `where`, in order. An array value contributes each of its scalars.
 */
export function extract(doc: unknown, rule: Extraction): string[] {
  const items = (Array.isArray(doc) ? doc : [doc]).slice(0, MAX_ITEMS);
  const out: string[] = [];
  for (const item of items) {
    if (rule.where && !Object.entries(rule.where).every(([path, expected]) => scalarText(valueAt(item, path)) === String(expected))) continue;
    const v = valueAt(item, rule.value);
    for (const x of Array.isArray(v) ? v : [v]) {
      const text = scalarText(x);
      if (text !== undefined && out.length < MAX_ITEMS) out.push(text);
    }
  }
  return out;
}
