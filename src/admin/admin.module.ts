import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import type { GatewayConfig } from '../config/config.schema.js';
import { AccountDeactivator } from '../identity/account-deactivator.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { AdminController } from './admin.controller.js';
import { AdminErrorFilter } from './admin-error.js';
import { AdminGuard } from './admin.guard.js';
import { AdminService } from './admin.service.js';
import { AdminTokenStrategy } from './admin-token.strategy.js';

/**
 * Account administration: the AccountDeactivator the account page uses (always), and the admin REST
 * API (/api/admin/v1), which is off — no routes at all — unless `admin.token` is configured.
 */
@Module({})
export class AdminModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const services = [AdminService, { provide: AccountDeactivator, useExisting: AdminService }];
    if (!config.admin.token) return { module: AdminModule, imports: [OAuth2Module], providers: services, exports: [AccountDeactivator] };
    return {
      module: AdminModule,
      imports: [PassportModule, OAuth2Module],
      controllers: [AdminController],
      providers: [...services, AdminTokenStrategy, AdminGuard, AdminErrorFilter],
      exports: [AccountDeactivator],
    };
  }
}
