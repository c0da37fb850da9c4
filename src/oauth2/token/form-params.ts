import { InvalidRequestError } from '../errors.js';

/**
 * A form body (application/x-www-form-urlencoded) as single-valued strings. RFC 6749 §3.2:
 * parameters must not repeat; empty values count as absent. Anything else is invalid_request.
 */
export function formParams(body: unknown): Record<string, string> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequestError('expected an application/x-www-form-urlencoded body');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new InvalidRequestError(`parameter repeated: ${k}`);
    if (typeof v !== 'string') throw new InvalidRequestError(`parameter ${k} is not a string`);
    if (v !== '') out[k] = v;
  }
  return out;
}

export function required(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined) throw new InvalidRequestError(`${name} is required`);
  return v;
}
