import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-http-bearer';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { secretsEqual } from '../../crypto/token-format.js';
import { IntrospectionService } from '../../oauth2/introspect/introspection.service.js';
import { CAUSEWAY_ADMIN_SCOPE } from '../../oauth2/scopes/scope.js';
import { AdminError, toAdminError } from './admin-error.js';
import type { AdminPrincipal } from './admin-principal.js';
import { ROUTE_DEF, type AdminRouteDef } from './admin-route.js';

export const ADMIN_STRATEGY = 'causeway-admin';

/**
 * `Authorization: Bearer <credential>` (passport-http-bearer), where the credential is either the
 * static `admin.token` (compared in constant time) or a live OAuth access token (or personal
 * token) whose scope holds `urn:causeway:admin`. A live token without that scope is a 403; anything
 * else a 401. Only the header counts: never a query string that ends up in access logs.
 */
@Injectable()
export class AdminTokenStrategy extends PassportStrategy(Strategy, ADMIN_STRATEGY) {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly introspection: IntrospectionService,
  ) {
    super();
  }

  /** Only the Authorization header is looked at (passport-http-bearer also reads body and query). */
  override authenticate(req: { headers: Record<string, unknown> }, options?: object): void {
    super.authenticate({ headers: { authorization: req.headers.authorization } } as never, options);
  }

  async validate(token: string): Promise<AdminPrincipal | false> {
    const expected = this.config.admin.token;
    if (expected && secretsEqual(token, expected)) return { actor: 'admin-token', via: 'admin_token' };
    const row = await this.introspection.liveAccessToken(token);
    if (!row) return false;
    if (!row.scope.split(' ').includes(CAUSEWAY_ADMIN_SCOPE)) throw new AdminError(403, 'M_FORBIDDEN', `the token does not carry the scope ${CAUSEWAY_ADMIN_SCOPE}`);
    return { actor: row.user_id ? `user:${row.user_id}` : `client:${row.client_id}`, via: 'oauth' };
  }
}

/** Requires an admin credential (except on public routes); 401 `M_MISSING_TOKEN` / `M_UNKNOWN_TOKEN`, 403 `M_FORBIDDEN`. */
@Injectable()
export class AdminAuthGuard extends AuthGuard(ADMIN_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(ctx: ExecutionContext) {
    const def = this.reflector.get<AdminRouteDef | undefined>(ROUTE_DEF, ctx.getHandler());
    if (def?.public) return true;
    return super.canActivate(ctx);
  }

  override handleRequest<T = AdminPrincipal>(err: unknown, user: T | false, _info: unknown, ctx: ExecutionContext): T {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- passport's error, passed on as it came
    if (err) throw toAdminError(err) ?? err;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { adminPrincipal?: T }>();
    if (!user) {
      throw req.headers.authorization
        ? new AdminError(401, 'M_UNKNOWN_TOKEN', 'the credential is not the admin token nor a live access token')
        : new AdminError(401, 'M_MISSING_TOKEN', `an admin credential is required (Authorization: Bearer: the admin token, or an access token with ${CAUSEWAY_ADMIN_SCOPE})`);
    }
    req.adminPrincipal = user;
    return user;
  }
}
