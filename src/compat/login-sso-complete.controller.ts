import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { loginPath, LoginPages } from '../login/login.pages.js';
import { LoginService } from '../login/login.service.js';
import { bindLogin, isLoginBound } from '../web/cookies.js';
import { PageError } from '../web/page-error.js';
import { COMPAT_SSO_LOGIN_MS, SsoRequests } from './sso-requests.js';

const expired = () => new PageError(400, 'error.title.sign_in_expired', 'error.compat_sso_unknown', { reason: 'compat_sso_unknown' });

/**
 * `GET /complete-compat-sso/{id}` (MAS's URL): where a legacy client's SSO login arrives on
 * Causeway's host. The first visit starts the login machine (purpose `compat_sso`, bound to this
 * browser; the time left of the 30 minutes is its lifetime) and runs it to its first stop: the
 * upstream sign-in, the picker, or — with a Causeway session already in this browser — the
 * confirmation page. Later visits from the same browser continue that login.
 */
@Controller()
export class LoginSsoCompleteController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly requests: SsoRequests,
    private readonly logins: LoginService,
    private readonly pages: LoginPages,
  ) {}

  @Get('complete-compat-sso/:id')
  async complete(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const request = await this.requests.get(id);
    if (!request) throw expired();
    const owner = await this.requests.owner(id);
    if (owner) return this.continue(req, reply, owner);

    const remainingMs = request.createdAt + COMPAT_SSO_LOGIN_MS - Date.now();
    if (remainingMs <= 0) throw expired();
    const snap = await this.logins.startCompatSso({ kind: 'compat_sso', redirectUrl: request.redirectUrl, ...(request.action ? { action: request.action } : {}) }, req, request.providerId, Math.ceil(remainingMs / 1000));
    const loginId = snap.context.loginId;
    // Two tabs racing on one link: the first claim wins, the other continues the winner's login.
    const winner = await this.requests.claim(id, loginId);
    if (winner !== loginId) return this.continue(req, reply, winner);
    bindLogin(req, reply, this.config, loginId);
    await this.pages.respond(req, reply, snap, true);
  }

  private continue(req: FastifyRequest, reply: FastifyReply, loginId: string) {
    if (!isLoginBound(req, loginId)) {
      throw new PageError(403, 'error.title.sign_in_not_found', 'error.compat_sso_other_browser', {
        reason: 'compat_sso_other_browser',
      });
    }
    void reply
      .status(303)
      .header('Cache-Control', 'no-store')
      .header('Location', `${this.config.http.public_base}${loginPath(loginId)}`)
      .send();
  }
}
