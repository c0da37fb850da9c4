import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import type { GatewayConfig } from '../config/config.schema.js';
import { IdentityModule } from '../identity/identity.module.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { AdminController } from './admin.controller.js';
import { AdminErrorFilter } from './admin-error.js';
import { AdminGuard } from './admin.guard.js';
import { AdminService } from './admin.service.js';
import { AdminTokenStrategy } from './admin-token.strategy.js';

/** The admin REST API (/api/admin/v1), which is off — no routes at all — unless `admin.token` is configured. */
@Module({})
export class AdminModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    if (!config.admin.token) return { module: AdminModule };
    return {
      module: AdminModule,
      imports: [PassportModule, OAuth2Module, IdentityModule],
      controllers: [AdminController],
      providers: [AdminService, AdminTokenStrategy, AdminGuard, AdminErrorFilter],
    };
  }
}
