import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { MaintenanceScheduler } from './maintenance.scheduler.js';

/**
 * Background housekeeping: the session lifecycle (`sessions.*`) and retention (`retention.*`),
 * one replica at a time. `causeway manage cleanup` runs the same sweep from the command line.
 */
@Module({
  imports: [OAuth2Module, IdentityModule],
  providers: [MaintenanceScheduler],
  exports: [MaintenanceScheduler],
})
export class MaintenanceModule {}
