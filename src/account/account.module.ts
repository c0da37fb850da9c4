import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../http/logger.module.js';
import { sendError } from '../errors/error-response.js';
import { IdentityModule } from '../identity/identity.module.js';
import { LoginModule } from '../login/login.module.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { PageRenderer } from '../web/page-renderer.js';
import { AccountController } from './account.controller.js';
import { EndSessionController } from './end-session.controller.js';
import { AccountSessions } from './account-session.js';
import { SignInMethodsController } from './sign-in-methods.controller.js';
import { HomeController } from './home.controller.js';

/** The pages of a signed-in user: the home page, the account page (MSC4191 actions) and RP-initiated logout. */
@Module({
  imports: [IdentityModule, LoginModule, OAuth2Module, UpstreamModule],
  controllers: [HomeController, AccountController, SignInMethodsController, EndSessionController],
  providers: [AccountSessions],
})
export class AccountModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly renderer: PageRenderer,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The advertised `account_management_uri` ends with "/" (MAS's layout), but Nest strips trailing
   * slashes from route paths: serve that exact URL here too, through the same handler and error pages.
   */
  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const account = this.moduleRef.get(AccountController);
    fastify.get(`/${OAUTH2_PATHS.account}`, async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await account.index(request.query, request, reply);
      } catch (err) {
        await sendError(reply, request, err, this.renderer, this.logger);
      }
      return reply;
    });
  }
}
