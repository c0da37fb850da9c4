import type { z } from 'zod';
import { CompatErrors } from './compat-errors.js';
import { controlCharacterField } from '../http/control-characters.js';

/**
 * Request bodies of the compatibility layer, parsed as MAS's `MatrixJsonBody` does
 * (docs/contracts/synapse.md §5.2). Pure.
 *
 * - `Content-Type` is optional (the Matrix spec says so) but, when present, must be
 *   `application/json` or `application/<x>+json` → else 400 M_NOT_JSON;
 * - an empty or unparsable body (or one that is not UTF-8) → 400 M_NOT_JSON;
 * - valid JSON of the wrong shape → 400 M_BAD_JSON. Unknown fields are ignored;
 * - a string holding a control character (a `\u0000` escape, …) → 400 M_BAD_JSON: these bodies come
 *   in raw, past the HTTP edge's own check (http/control-characters.ts).
 */

export interface BodyOptions {
  /** `/logout/all`: no Content-Type and an empty body mean "no body" (undefined), not an error. */
  optional?: boolean;
  /** `/refresh` (MAS uses a plain JSON extractor there): the Content-Type must be present. */
  requireContentType?: boolean;
}

const MEDIA_TYPE = /^\s*([A-Za-z0-9!#$&^_.+-]+)\/([A-Za-z0-9!#$&^_.+-]+)\s*(;.*)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `application/json`, `application/json; charset=utf-8`, `application/vnd.x+json`. */
export function isJsonContentType(value: string): boolean {
  const m = MEDIA_TYPE.exec(value);
  if (!m) return false;
  const type = m[1]!.toLowerCase();
  const subtype = m[2]!.toLowerCase();
  return type === 'application' && (subtype === 'json' || subtype.endsWith('+json'));
}

/** The parsed JSON value (not yet shape-checked), or undefined for an absent optional body. */
export function readJson(contentType: string | undefined, raw: Buffer | undefined, opts: BodyOptions = {}): unknown {
  const body = raw ?? Buffer.alloc(0);
  if (contentType === undefined) {
    if (opts.requireContentType) throw CompatErrors.contentTypeNotJson();
    if (opts.optional && body.length === 0) return undefined;
  } else if (!isJsonContentType(contentType)) {
    throw CompatErrors.contentTypeNotJson();
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw CompatErrors.notJson();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw CompatErrors.notJson();
  }
  if (controlCharacterField(value, 'body')) throw CompatErrors.badJson();
  return value;
}

/** Parses and shape-checks a body: the schema's output, or the Matrix error. */
export function parseBody<S extends z.ZodType>(schema: S, contentType: string | undefined, raw: Buffer | undefined, opts: BodyOptions = {}): z.infer<S> | undefined {
  const value = readJson(contentType, raw, opts);
  if (value === undefined) return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw CompatErrors.badJson();
  return r.data;
}
