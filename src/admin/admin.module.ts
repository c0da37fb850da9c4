import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import type { GatewayConfig } from '../config/config.schema.js';
import { IdentityModule } from '../identity/identity.module.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { AdminService } from './admin.service.js';
import { AdminAuthGuard, AdminTokenStrategy } from './http/admin-auth.js';
import { AdminErrorFilter } from './http/admin-error.js';
import { ClientsController } from './routes/clients.controller.js';
import { LinksController } from './routes/links.controller.js';
import { OperationsController } from './routes/operations.controller.js';
import { SessionsController } from './routes/sessions.controller.js';
import { UsersController } from './routes/users.controller.js';

export const ADMIN_CONTROLLERS = [UsersController, SessionsController, LinksController, ClientsController, OperationsController];

/**
 * Operating Causeway: AdminService (what `causeway manage` runs too) and the admin REST API
 * (/api/admin/v1), whose routes exist only when `admin.enabled` (by default: when `admin.token` is set).
 */
@Module({})
export class AdminModule {
  static forRoot(config: GatewayConfig, opts: { http: boolean } = { http: true }): DynamicModule {
    const base = { module: AdminModule, imports: [OAuth2Module, IdentityModule], providers: [AdminService], exports: [AdminService] };
    if (!opts.http || !config.admin.enabled) return base;
    return {
      ...base,
      imports: [...base.imports, PassportModule],
      controllers: ADMIN_CONTROLLERS,
      providers: [...base.providers, AdminTokenStrategy, AdminAuthGuard, AdminErrorFilter],
    };
  }
}
