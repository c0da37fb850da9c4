import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../http/logger.module.js';
import { IdentityError } from '../identity/identity-errors.js';

/** An admin API error: `{"error": code, "error_description": text}` with its status. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export const notFound = (what: string) => new AdminError(404, 'not_found', `${what} not found`);
export const badRequest = (text: string) => new AdminError(400, 'invalid_request', text);

/** Every admin API error in one JSON shape; unexpected ones are a bare 500 (logged). */
@Catch()
export class AdminErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  async catch(e: unknown, host: ArgumentsHost) {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    let err: AdminError;
    if (e instanceof AdminError) err = e;
    else if (e instanceof IdentityError) err = new AdminError(e.kind === 'not_found' ? 404 : e.kind === 'homeserver_unavailable' ? 503 : e.kind === 'invalid' ? 400 : 409, e.kind, e.message);
    else if (e instanceof HttpException && e.getStatus() < 500) {
      const s = e.getStatus();
      err = new AdminError(s, s === 404 ? 'not_found' : s === 401 ? 'unauthorized' : 'invalid_request', s === 400 ? 'malformed request' : e.message);
    } else {
      this.logger.error({ err: e, reqId: request.id }, 'admin API error');
      err = new AdminError(500, 'server_error', 'internal error');
    }
    if (err.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="causeway-admin"');
    await reply.status(err.status).header('Cache-Control', 'no-store').send({ error: err.code, error_description: err.description });
  }
}
