import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { DevLoginController } from '../upstream/dev/dev-login.controller.js';
import { AuthorizeController } from './authorize.controller.js';
import { DeviceVerificationController } from './device-verification.controller.js';
import { IdentityMapper, TemplateIdentityMapper } from './identity-mapper.js';
import { LoginActors } from './login.actors.js';
import { LoginController } from './login.controller.js';
import { LoginPages } from './login.pages.js';
import { LoginService } from './login.service.js';
import { LoginStore } from './login.store.js';
import { SignInRecorder } from './sign-in-recorder.js';
import { UpstreamCallbackController } from './upstream-callback.controller.js';
import { UpstreamModule } from '../upstream/upstream.module.js';

/**
 * The login flow: the state machine and its store, the controllers that feed it events
 * (/authorize, /login/{id}/*, the upstream callback, the device verification page) and the dev
 * sign-in form. AuthorizationCompleter and DeviceGrantDecider come from the OAuth module.
 */
@Module({
  imports: [IdentityModule, UpstreamModule, OAuth2Module],
  controllers: [AuthorizeController, LoginController, UpstreamCallbackController, DeviceVerificationController, DevLoginController],
  providers: [LoginStore, LoginActors, SignInRecorder, LoginService, LoginPages, { provide: IdentityMapper, useClass: TemplateIdentityMapper }],
  exports: [LoginService, LoginPages],
})
export class LoginModule {}
