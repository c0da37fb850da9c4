import type { z } from 'zod';
import { PageError } from './page-error.js';

/** Query string or form body as single strings (a repeated field keeps its first value; non-strings are dropped). */
export function singleValues(input: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!input || typeof input !== 'object') return out;
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}

/** Validates a submitted form; a malformed one is a 400 page (never a 500). */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(singleValues(body));
  if (!r.success) {
    throw new PageError(400, 'error.title.bad_request', 'error.form_invalid', {
      reason: 'form_invalid',
      fields: r.error.issues.map((i) => i.path.join('.')),
    });
  }
  return r.data;
}
