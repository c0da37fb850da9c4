import { Module } from '@nestjs/common';
import { CasLogoutService } from './cas-logout.service.js';
import { CasServiceController } from './cas-service.controller.js';

/** CAS endpoints of Causeway: the service URL (ticket return + Single Logout) and /cas/slo. */
@Module({ controllers: [CasServiceController], providers: [CasLogoutService] })
export class CasModule {}
