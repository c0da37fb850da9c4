import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CompatErrors } from './compat-errors.js';
import { rawBody, sendJson } from './compat-http.js';
import { CompatSessions } from './compat-sessions.service.js';
import { LoginTokens } from './login-tokens.js';
import { parseLoginRequest } from './login-request.js';
import { readJson } from './matrix-json-body.js';

/**
 * `POST /_matrix/client/{version}/login` (docs/contracts/synapse.md §5.2). Only `m.login.token`
 * signs in: the single-use token an SSO login through `/login/sso/redirect` ended with, within
 * `compat.login_token_ttl` (30 s) of it. → 200 `{access_token: "mct_…", device_id, user_id,
 * refresh_token?, expires_in_ms?}`, the device already created on the homeserver.
 */
@Injectable()
export class LoginEndpoint {
  constructor(
    private readonly tokens: LoginTokens,
    private readonly sessions: CompatSessions,
  ) {}

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const login = parseLoginRequest(readJson(req.headers['content-type'], rawBody(req)));
    switch (login.kind) {
      case 'password':
      case 'unsupported':
        throw CompatErrors.invalidLoginType();
      case 'application_service':
        throw CompatErrors.appserviceLoginUnsupported();
      case 'token': {
        const taken = await this.tokens.take(login.token);
        if (!taken.ok) throw taken.reason === 'expired' ? CompatErrors.loginTokenExpired() : CompatErrors.invalidLoginToken();
        const result = await this.sessions.login(taken.grant, {
          refreshToken: login.refreshToken,
          ip: req.ip,
          ...(login.deviceId !== undefined ? { deviceId: login.deviceId } : {}),
          ...(login.displayName !== undefined ? { displayName: login.displayName } : {}),
        });
        sendJson(reply, 200, result);
      }
    }
  }
}
