import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { CompatErrors } from './compat-errors.js';
import { bearerToken, sendJson } from './compat-http.js';
import { CompatSessions, type CompatSessionRef } from './compat-sessions.service.js';

/**
 * `POST /_matrix/client/{version}/logout` (docs/contracts/synapse.md §5.2): a compat access token in
 * `Authorization: Bearer` ends its session (tokens revoked at once; `devices.sync` queued in the same
 * transaction removes the device from the homeserver). Any other token, OAuth `mat_` included, is
 * "Invalid access token": OAuth clients sign out by revocation.
 */
@Injectable()
export class LogoutEndpoint {
  constructor(
    private readonly sessions: CompatSessions,
    private readonly terminator: SessionTerminator,
  ) {}

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const session = await authenticate(this.sessions, req.headers.authorization);
    await this.terminator.endCompatSession(session.sessionId, 'user_logout');
    sendJson(reply, 200, {});
  }
}

/** The compat session of the request's Bearer token (the two token errors of `/logout` and `/logout/all`). */
export async function authenticate(sessions: CompatSessions, authorization: string | undefined, opts: { activeUser?: boolean } = {}): Promise<CompatSessionRef> {
  const bearer = bearerToken(authorization);
  if (!bearer.ok) throw bearer.reason === 'missing' ? CompatErrors.missingToken() : CompatErrors.malformedAuthorization();
  const session = await sessions.findByAccessToken(bearer.token, opts);
  if (!session) throw CompatErrors.invalidAccessToken();
  return session;
}
