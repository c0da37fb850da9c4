import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { AuthorizationCompleter } from '../oauth2/oauth2.contracts.js';
import { bindLogin } from '../web/cookies.js';
import { LoginPages } from './login.pages.js';
import { LoginService } from './login.service.js';

/**
 * GET /authorize: the OAuth module validates the request (an untrustworthy client or redirect URI
 * is an error page; anything else goes back to the client as an error redirect), then one login
 * machine is created and bound to this browser.
 */
@Controller()
export class AuthorizeController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly logins: LoginService,
    private readonly pages: LoginPages,
    private readonly completer: AuthorizationCompleter,
  ) {}

  @Get('authorize')
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const query = (req.query ?? {}) as Record<string, unknown>;
    const request = await this.completer.validate(query);
    const provider = typeof query.provider === 'string' ? query.provider : undefined;
    const snap = await this.logins.startAuthorization(request, req, provider);
    bindLogin(req, reply, this.config, snap.context.loginId);
    await this.pages.respond(req, reply, snap, true);
  }
}
