import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AdminError } from './admin-error.js';
import { ADMIN_STRATEGY, type AdminPrincipal } from './admin-token.strategy.js';

/** Requires the admin token; anything else is a 401 in the admin API's JSON shape. */
@Injectable()
export class AdminGuard extends AuthGuard(ADMIN_STRATEGY) {
  override handleRequest<T = AdminPrincipal>(err: unknown, user: T | false): T {
    if (err || !user) throw new AdminError(401, 'unauthorized', 'a valid admin token is required (Authorization: Bearer)');
    return user;
  }
}
