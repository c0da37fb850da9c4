import { Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from '../config/config.schema.js';
import { LoginModule } from '../login/login.module.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { CompatSsoCompleter } from '../login/compat-login.contract.js';
import { CompatRoutes } from './compat.routes.js';
import { CompatSessions } from './compat-sessions.service.js';
import { CompatSsoCompleterService } from './compat-sso-completer.service.js';
import { LoginFlowsEndpoint } from './login-flows.endpoint.js';
import { LoginSsoCompleteController } from './login-sso-complete.controller.js';
import { LoginSsoRedirectEndpoint } from './login-sso-redirect.endpoint.js';
import { LoginTokens } from './login-tokens.js';
import { LoginEndpoint } from './login.endpoint.js';
import { LogoutAllEndpoint } from './logout-all.endpoint.js';
import { LogoutEndpoint } from './logout.endpoint.js';
import { RefreshEndpoint } from './refresh.endpoint.js';
import { SsoRequests } from './sso-requests.js';

/**
 * The MSC3824 compatibility layer: legacy Matrix clients sign in with `m.login.sso` +
 * `m.login.token` through Causeway (the reverse proxy sends `^/_matrix/client/[^/]+/(login|logout|refresh)`
 * here, as for MAS). One file per endpoint; sessions live in `compat_sessions`/`compat_tokens` and
 * are ended by the OAuth module's SessionTerminator like any other session. `compat.enabled: false`
 * registers nothing (those paths then answer 404 M_UNRECOGNIZED).
 */
@Module({})
export class CompatModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    if (!config.compat.enabled) return { module: CompatModule };
    return {
      module: CompatModule,
      imports: [OAuth2Module, LoginModule, UpstreamModule],
      controllers: [LoginSsoCompleteController],
      providers: [
        CompatSessions,
        LoginTokens,
        SsoRequests,
        CompatSsoCompleterService,
        { provide: CompatSsoCompleter, useExisting: CompatSsoCompleterService },
        LoginFlowsEndpoint,
        LoginEndpoint,
        LoginSsoRedirectEndpoint,
        LogoutEndpoint,
        LogoutAllEndpoint,
        RefreshEndpoint,
        CompatRoutes,
      ],
      exports: [CompatSsoCompleter],
    };
  }
}
