import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { PageRenderer } from '../web/page-renderer.js';
import { sendError } from './error-response.js';

/** Every exception from a Nest handler goes out in its protocol's shape (see error-response.ts). */
@Catch()
export class ProtocolErrorFilter implements ExceptionFilter {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly logger: Logger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    return sendError(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>(), exception, this.renderer, this.logger);
  }
}
