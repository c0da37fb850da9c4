import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { sendError } from '../errors/error-response.js';
import { LOGGER } from '../http/logger.module.js';
import { RATE_LIMITS } from '../http/rate-limits.js';
import { PageRenderer } from '../web/page-renderer.js';
import { CompatErrors } from './compat-errors.js';
import { LoginFlowsEndpoint } from './login-flows.endpoint.js';
import { LoginSsoRedirectEndpoint } from './login-sso-redirect.endpoint.js';
import { LoginEndpoint } from './login.endpoint.js';
import { LogoutAllEndpoint } from './logout-all.endpoint.js';
import { LogoutEndpoint } from './logout.endpoint.js';
import { RefreshEndpoint } from './refresh.endpoint.js';

const PREFIX = '/_matrix/client/:version';

interface Endpoint {
  handle(req: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/**
 * The `/_matrix/client/{version}/(login|logout|refresh)` routes (any version segment: `r0`, `v3`, …),
 * registered on Fastify in their own encapsulated context because their bodies follow MAS's rules,
 * not Fastify's: the Content-Type is optional, and a wrong one, a body that is not JSON or a body
 * over `http.body_limit` must be Matrix errors (M_NOT_JSON, M_TOO_LARGE), never a 415. So every body
 * arrives raw and each endpoint parses it (matrix-json-body.ts). Errors leave through the global
 * error writer (Matrix JSON; HTML pages for the browser-facing SSO redirect). Permissive CORS comes
 * from http.setup.ts.
 */
@Injectable()
export class CompatRoutes {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly adapterHost: HttpAdapterHost,
    private readonly renderer: PageRenderer,
    private readonly flows: LoginFlowsEndpoint,
    private readonly login: LoginEndpoint,
    private readonly ssoRedirect: LoginSsoRedirectEndpoint,
    private readonly logout: LogoutEndpoint,
    private readonly logoutAll: LogoutAllEndpoint,
    private readonly refresh: RefreshEndpoint,
  ) {}

  /** Registers the routes on Fastify (src/raw-routes.ts calls it before the server listens). */
  install() {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: this.config.http.body_limit }, (_req, body, done) => done(null, body));
      // Errors before a handler runs: an unparsable Content-Type, a body over the limit.
      scope.setErrorHandler(async (err: { code?: string }, req, reply) => {
        const mapped = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? CompatErrors.tooLarge() : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? CompatErrors.contentTypeNotJson() : err;
        await sendError(reply, req, mapped, this.renderer, this.logger);
      });

      const route = (method: 'GET' | 'POST', url: string, endpoint: Endpoint, rateLimit?: RouteOptions['config']) =>
        scope.route({
          method,
          url: `${PREFIX}${url}`,
          ...(rateLimit ? { config: rateLimit } : {}),
          handler: async (req, reply) => {
            try {
              await endpoint.handle(req, reply);
            } catch (err) {
              await sendError(reply, req, err, this.renderer, this.logger);
            }
            return reply;
          },
        });

      route('GET', '/login', this.flows);
      route('POST', '/login', this.login, { rateLimit: RATE_LIMITS.compatLogin });
      // Each call stores a pending request for 30 minutes: limited like /authorize (F8).
      const sso = { rateLimit: RATE_LIMITS.authorize };
      route('GET', '/login/sso/redirect', this.ssoRedirect, sso);
      route('GET', '/login/sso/redirect/', this.ssoRedirect, sso);
      route('GET', '/login/sso/redirect/:idp', this.ssoRedirect, sso);
      route('POST', '/logout', this.logout);
      route('POST', '/logout/all', this.logoutAll);
      route('POST', '/refresh', this.refresh, { rateLimit: RATE_LIMITS.compatRefresh });
    });
  }
}
