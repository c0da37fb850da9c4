import { InvalidRequestError } from '../errors.js';
import { controlCharacterField } from '../../http/control-characters.js';

/**
 * A form body (application/x-www-form-urlencoded) as single-valued strings. RFC 6749 §3.2:
 * parameters must not repeat; empty values count as absent; control characters are refused (the
 * Fastify hook already did so on Fastify routes; the raw introspection handler relies on this).
 * Anything else is invalid_request.
 */
export function formParams(body: unknown): Record<string, string> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequestError('expected an application/x-www-form-urlencoded body');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new InvalidRequestError(`parameter repeated: ${k}`);
    if (typeof v !== 'string') throw new InvalidRequestError(`parameter ${k} is not a string`);
    const bad = controlCharacterField({ [k]: v }, 'url');
    if (bad) throw new InvalidRequestError(`${bad === 'a field name' ? 'a parameter name' : `parameter ${k}`} contains a control character`);
    if (v !== '') out[k] = v;
  }
  return out;
}

export function required(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined) throw new InvalidRequestError(`${name} is required`);
  return v;
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * The parameters of a POST to an OAuth endpoint (token, revocation, device authorization), which
 * RFC 6749 §3.2 (and RFC 7009, RFC 8628) want form-encoded: any other body is invalid_request naming
 * what came, never an authentication failure.
 */
export function formBody(req: { headers: Record<string, string | string[] | undefined>; body?: unknown }): Record<string, string> {
  const type = req.headers['content-type'];
  if (typeof type !== 'string' || !FORM_TYPE.test(type)) {
    const what = typeof type === 'string' && type.trim() ? type.split(';')[0]!.trim().slice(0, 100) : 'no content type';
    throw new InvalidRequestError(`expected an application/x-www-form-urlencoded body, got ${what}`);
  }
  return formParams(req.body);
}
