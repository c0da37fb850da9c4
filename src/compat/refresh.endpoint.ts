import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { rawBody, sendJson } from './compat-http.js';
import { CompatSessions } from './compat-sessions.service.js';
import { refreshBody } from './login-request.js';
import { parseBody } from './matrix-json-body.js';

/**
 * `POST /_matrix/client/{version}/refresh` `{"refresh_token": "mcr_…"}` (docs/contracts/synapse.md
 * §5.2; MAS reads it with a plain JSON extractor, so the Content-Type is required). Rotation: a new
 * pair, the old refresh token consumed, the old access token expired at once. Any unknown, used or
 * revoked token → 401 M_UNKNOWN_TOKEN "Invalid refresh token".
 */
@Injectable()
export class RefreshEndpoint {
  constructor(private readonly sessions: CompatSessions) {}

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = parseBody(refreshBody, req.headers['content-type'], rawBody(req), { requireContentType: true })!;
    sendJson(reply, 200, await this.sessions.refresh(body.refresh_token, Date.now(), req.ip));
  }
}
