import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../../http/logger.module.js';
import { IdentityError, type IdentityErrorKind } from '../../identity/identity-errors.js';
import { PersonalTokenError } from '../../oauth2/personal/personal-tokens.service.js';

/**
 * Error codes of the admin API: the Matrix ones where the Matrix spec has one, `CAUSEWAY_*` for the
 * rest. Every error is `{"errcode": …, "error": text}` with the HTTP status.
 */
export const ADMIN_ERRCODES = [
  'M_MISSING_TOKEN',
  'M_UNKNOWN_TOKEN',
  'M_FORBIDDEN',
  'M_NOT_FOUND',
  'M_INVALID_PARAM',
  'M_BAD_JSON',
  'M_NOT_JSON',
  'M_TOO_LARGE',
  'M_UNRECOGNIZED',
  'M_LIMIT_EXCEEDED',
  'M_UNKNOWN',
  'CAUSEWAY_CONFLICT',
  'CAUSEWAY_LAST_SIGN_IN_METHOD',
  'CAUSEWAY_WRONG_STATE',
  'CAUSEWAY_HOMESERVER_UNAVAILABLE',
] as const;
export type AdminErrcode = (typeof ADMIN_ERRCODES)[number];

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: AdminErrcode,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AdminError(404, 'M_NOT_FOUND', `${what} not found`);

const IDENTITY: Record<IdentityErrorKind, [number, AdminErrcode]> = {
  not_found: [404, 'M_NOT_FOUND'],
  invalid: [400, 'M_INVALID_PARAM'],
  conflict: [409, 'CAUSEWAY_CONFLICT'],
  last_sign_in_method: [409, 'CAUSEWAY_LAST_SIGN_IN_METHOD'],
  wrong_state: [409, 'CAUSEWAY_WRONG_STATE'],
  homeserver_unavailable: [503, 'CAUSEWAY_HOMESERVER_UNAVAILABLE'],
};

/** Domain errors of the modules the admin API drives, as admin API errors (undefined: not one of them). */
export function toAdminError(e: unknown): AdminError | undefined {
  if (e instanceof AdminError) return e;
  if (e instanceof IdentityError) return new AdminError(...IDENTITY[e.kind], e.message);
  if (e instanceof PersonalTokenError) {
    return e.kind === 'not_admin' ? new AdminError(403, 'M_FORBIDDEN', e.message) : e.kind === 'invalid_scope' ? new AdminError(400, 'M_INVALID_PARAM', e.message) : new AdminError(409, 'CAUSEWAY_WRONG_STATE', e.message);
  }
  return undefined;
}

function fromHttp(e: HttpException): AdminError {
  const s = e.getStatus();
  if (s === 404) return new AdminError(404, 'M_UNRECOGNIZED', 'unrecognized request');
  if (s === 413) return new AdminError(413, 'M_TOO_LARGE', 'request body too large');
  if (s === 415) return new AdminError(415, 'M_NOT_JSON', 'the body must be application/json');
  if (s === 429) return new AdminError(429, 'M_LIMIT_EXCEEDED', 'too many requests');
  return new AdminError(s, s === 400 ? 'M_NOT_JSON' : 'M_UNKNOWN', s === 400 ? 'malformed request' : e.message);
}

/** Every admin API error in one JSON shape; unexpected ones are a bare 500 (logged, never echoed). */
@Catch()
export class AdminErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  async catch(e: unknown, host: ArgumentsHost) {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    let err = toAdminError(e);
    if (!err && e instanceof HttpException && e.getStatus() < 500) err = fromHttp(e);
    if (!err) {
      this.logger.error({ err: e, reqId: request.id }, 'admin API error');
      err = new AdminError(500, 'M_UNKNOWN', 'internal error');
    }
    if (err.status === 401) reply.header('WWW-Authenticate', `Bearer realm="causeway-admin"${err.errcode === 'M_UNKNOWN_TOKEN' ? ', error="invalid_token"' : ''}`);
    if (err.status === 403) reply.header('WWW-Authenticate', 'Bearer realm="causeway-admin", error="insufficient_scope", scope="urn:causeway:admin"');
    await reply.status(err.status).header('Cache-Control', 'no-store').send({ errcode: err.errcode, error: err.message });
  }
}
