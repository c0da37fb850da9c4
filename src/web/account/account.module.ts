import { Module } from '@nestjs/common';
import { IdentityModule } from '../../identity/identity.module.js';
import { LoginModule } from '../../login/login.module.js';
import { OAuth2Module } from '../../oauth2/oauth2.module.js';
import { UpstreamModule } from '../../upstream/upstream.module.js';
import { AccountController } from './account.controller.js';
import { EndSessionController } from './end-session.controller.js';

/** The pages of a signed-in user: the account page (MSC4191 actions) and RP-initiated logout. */
@Module({
  imports: [IdentityModule, LoginModule, OAuth2Module, UpstreamModule],
  controllers: [AccountController, EndSessionController],
})
export class AccountModule {}
