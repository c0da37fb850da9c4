/**
 * Control characters in attacker input (issue 13, F5). A NUL byte reaches PostgreSQL as an error
 * (`invalid byte sequence for encoding "UTF8": 0x00`), so an identifier carrying one turned
 * unauthenticated requests into 500s; other C0 controls and DEL have no business in a query string,
 * a path or a form value either. They are refused at the edge, once, before any handler runs:
 *   - query strings and path parameters: every C0 control and DEL;
 *   - bodies (form or JSON, keys included): the same except TAB, LF and CR, which XML (SAML, CAS
 *     logout requests), base64 with line breaks and multi-line text legitimately carry.
 * Pure; http.setup.ts installs it as a Fastify hook and the raw handlers (introspection, the
 * compatibility layer's JSON bodies) call it themselves.
 */

const IN_URL = /[\u0000-\u001F\u007F]/;
const IN_BODY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Deeper than any body we accept (JSON bodies are flat objects with small arrays). */
const MAX_DEPTH = 32;

export type InputPart = 'url' | 'body';

/** The name of the first field whose key or string value holds a refused control character, if any. */
export function controlCharacterField(value: unknown, part: InputPart, name = '', depth = 0): string | undefined {
  const refused = part === 'url' ? IN_URL : IN_BODY;
  if (typeof value === 'string') return refused.test(value) ? name || 'value' : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Buffer.isBuffer(value)) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const bad = controlCharacterField(item, part, name, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (refused.test(k)) return 'a field name';
    const bad = controlCharacterField(v, part, k, depth + 1);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * The error the hook throws: a 400 in each protocol's shape (errors/error-response.ts maps the code).
 * The message names the field, never its value.
 */
export class ControlCharacterError extends Error {
  readonly statusCode = 400;
  readonly code = 'CW_CONTROL_CHARACTER';
  constructor(readonly field: string) {
    super(`${field} contains a control character`);
    this.name = 'ControlCharacterError';
  }
}

/** Throws ControlCharacterError when the query, the path parameters or the parsed body carry a refused control character. */
export function refuseControlCharacters(request: { query?: unknown; params?: unknown; body?: unknown }): void {
  const bad = controlCharacterField(request.query, 'url') ?? controlCharacterField(request.params, 'url') ?? controlCharacterField(request.body, 'body');
  if (bad) throw new ControlCharacterError(bad);
}
