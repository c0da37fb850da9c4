import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { CompatErrors } from './compat-errors.js';
import { rawBody, sendJson } from './compat-http.js';
import { CompatSessions } from './compat-sessions.service.js';
import { logoutAllBody } from './login-request.js';
import { authenticate } from './logout.endpoint.js';
import { parseBody } from './matrix-json-body.js';

/**
 * `POST /_matrix/client/{version}/logout/all` (docs/contracts/synapse.md §5.2). Signing out
 * everywhere would leave the user's OAuth sessions alive, which the client cannot know; so, as MAS,
 * it is only done when the client says that is fine (`{"io.element.only_compat_is_fine": true}`),
 * else 404 M_UNRECOGNIZED. Then every compat session of the user ends (one transaction, one
 * `devices.sync`); OAuth sessions are untouched. The body is checked first, then the token.
 */
@Injectable()
export class LogoutAllEndpoint {
  constructor(
    private readonly sessions: CompatSessions,
    private readonly terminator: SessionTerminator,
  ) {}

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const body = parseBody(logoutAllBody, req.headers['content-type'], rawBody(req), { optional: true });
    const session = await authenticate(this.sessions, req.headers.authorization, { activeUser: true });
    if (body?.['io.element.only_compat_is_fine'] !== true) throw CompatErrors.logoutAllNotSupported();
    await this.terminator.endCompatSessionsOfUser(session.userId, 'user_logout');
    sendJson(reply, 200, {});
  }
}
