import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LoginService } from '../login/login.service.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';
import { PageRenderer } from '../web/page-renderer.js';

/**
 * The home page (`/`, the address people are given): the service's name and the way to the
 * account page; for operators, the readiness check. Nothing secret: who is signed in is shown only
 * to that browser.
 */
@Controller()
export class HomeController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly logins: LoginService,
    private readonly renderer: PageRenderer,
  ) {}

  @Get('/')
  async home(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const base = this.config.http.public_base;
    const current = await this.logins.currentSession(req);
    await this.renderer.send(reply, 'home', 200, {
      account_url: `${base}${OAUTH2_PATHS.account}`,
      health_url: `${base}health/ready`,
      user_id: current ? `@${current.user.localpart}:${this.config.matrix.homeserver}` : undefined,
    });
  }
}
