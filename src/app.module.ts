import { Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from './config/config.schema.js';
import { ConfigModule } from './config/config.module.js';
import { StorageModule, type StorageHandles } from './storage/storage.module.js';
import { CryptoModule } from './crypto/crypto.module.js';
import type { KeyStore } from './crypto/key-store.js';
import { HealthModule } from './health/health.module.js';
import { WebModule } from './web/web.module.js';
import { LoggerModule } from './http/logger.module.js';
import { HomeserverModule } from './homeserver/homeserver.module.js';
import { EventsModule } from './events/events.module.js';
import { AdminModule } from './admin/admin.module.js';
import { UpstreamModule } from './upstream/upstream.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { LoginModule } from './login/login.module.js';
import { AccountModule } from './account/account.module.js';
import { SamlModule } from './upstream/saml/saml.module.js';
import type { Logger } from 'pino';
import type { PageSetup } from './web/page-setup.js';
import { OAuth2Module } from './oauth2/oauth2.module.js';
import { AuthMetadataModule } from './matrix/auth-metadata.module.js';
import { CasModule } from './upstream/cas/cas.module.js';
import { CompatModule } from './compat/compat.module.js';
import { ClockModule } from './clock/clock.module.js';
import { MaintenanceModule } from './maintenance/maintenance.module.js';
import type { Clock } from './clock/clock.js';
import { AuditModule } from './audit/audit.module.js';

export interface AppDeps {
  config: GatewayConfig;
  storage: StorageHandles;
  keys: KeyStore;
  encryptionKey: string;
  logger: Logger;
  clock: Clock;
  /** Catalogs, templates and branding, prepared (and checked) before the server starts. */
  pages: PageSetup;
}

/** Composition root: infrastructure modules first, then one module per concern. */
@Module({})
export class AppModule {
  static forRoot(deps: AppDeps): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(deps.config),
        ClockModule.forRoot(deps.clock),
        LoggerModule.forRoot(deps.logger),
        StorageModule.forRoot(deps.storage),
        CryptoModule.forRoot(deps.keys, deps.encryptionKey),
        AuditModule,
        HealthModule,
        WebModule.forRoot(deps.pages),
        // Feature modules (one per concern) are added below.
        HomeserverModule,
        EventsModule.forRoot({ deliver: true }),
        OAuth2Module,
        AuthMetadataModule,
        UpstreamModule,
        IdentityModule,
        LoginModule,
        AccountModule,
        AdminModule.forRoot(deps.config),
        CasModule,
        SamlModule,
        CompatModule.forRoot(deps.config),
        MaintenanceModule,
      ],
    };
  }
}
