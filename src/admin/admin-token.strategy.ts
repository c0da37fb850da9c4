import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { secretsEqual } from '../crypto/token-format.js';

/** Who made an admin call (written to the audit log). */
export interface AdminPrincipal {
  actor: 'admin-token';
}

export const ADMIN_STRATEGY = 'causeway-admin-token';

/**
 * `Authorization: Bearer <admin.token>` (passport-http-bearer), compared in constant time. The token
 * is only accepted in the header: never in a query string that ends up in access logs.
 */
@Injectable()
export class AdminTokenStrategy extends PassportStrategy(Strategy, ADMIN_STRATEGY) {
  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {
    super();
  }

  /** Only the Authorization header is looked at (passport-http-bearer also reads body and query). */
  override authenticate(req: { headers: Record<string, unknown> }, options?: object): void {
    super.authenticate({ headers: { authorization: req.headers.authorization } } as never, options);
  }

  validate(token: string): AdminPrincipal | false {
    const expected = this.config.admin.token;
    if (!expected || !secretsEqual(token, expected)) return false;
    return { actor: 'admin-token' };
  }
}
