/**
 * ID token / userinfo claims → Assertion attributes (`user.*` in templates).
 *
 * Strings stay strings, numbers and booleans become strings ("true"), arrays become lists of
 * strings, nested objects are flattened with dotted keys (Keycloak's `realm_access.roles` is
 * `user["realm_access.roles"]`). JWT bookkeeping claims (aud, exp, nonce, hashes, ...) are dropped:
 * they say nothing about the user. Bounded, so a hostile IdP cannot bloat the login state: besides
 * the per-attribute limits, all names and values together stay under MAX_TOTAL_CHARS (issue 13:
 * 200 attributes of 500 values of 4 KiB each were ~400 MB in one login snapshot). What does not fit
 * is dropped, in claim order (userinfo first), never truncated.
 */

const PROTOCOL_CLAIMS = new Set(['aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'jti', 'azp', 'typ', 'events']);
const MAX_ATTRIBUTES = 200;
const MAX_VALUES = 500;
const MAX_VALUE_LENGTH = 4096;
const MAX_DEPTH = 4;
/** Characters of attribute names and values in one assertion (~256 KiB of ASCII). */
export const MAX_TOTAL_CHARS = 256 * 1024;

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= MAX_VALUE_LENGTH ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Flattens claims into attributes. Later sources override earlier ones key by key. */
export function claimsToAttributes(...sources: Array<Record<string, unknown> | undefined>): Record<string, string | string[]> {
  // A Map, not object assignment: a claim named "__proto__" must stay an ordinary key.
  const out = new Map<string, string | string[]>();
  const size = (key: string, value: string | string[]) => key.length + (Array.isArray(value) ? value.reduce((n, v) => n + v.length, 0) : value.length);
  let total = 0;
  const put = (key: string, value: string | string[]) => {
    const previous = out.get(key);
    const next = total - (previous === undefined ? 0 : size(key, previous)) + size(key, value);
    if (next > MAX_TOTAL_CHARS) return;
    total = next;
    out.set(key, value);
  };
  const visit = (prefix: string, value: unknown, depth: number) => {
    if (out.size >= MAX_ATTRIBUTES && !out.has(prefix)) return;
    if (Array.isArray(value)) {
      const list = value
        .slice(0, MAX_VALUES)
        .map(scalar)
        .filter((x): x is string => x !== undefined);
      put(prefix, list);
      return;
    }
    if (value !== null && typeof value === 'object') {
      if (depth >= MAX_DEPTH) return;
      for (const [k, v] of Object.entries(value)) visit(`${prefix}.${k}`, v, depth + 1);
      return;
    }
    const s = scalar(value);
    if (s !== undefined) put(prefix, s);
  };
  for (const source of sources) {
    if (!source) continue;
    for (const [k, v] of Object.entries(source)) {
      if (PROTOCOL_CLAIMS.has(k)) continue;
      visit(k, v, 0);
    }
  }
  return Object.fromEntries(out);
}
