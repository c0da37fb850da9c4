import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/config.schema.js';
import { ConfigModule } from '../../config/config.module.js';
import type { KeyStore } from '../../crypto/key-store.js';
import { CryptoModule } from '../../crypto/crypto.module.js';
import { EventsModule } from '../../events/events.module.js';
import { HealthModule } from '../../health/health.module.js';
import { HomeserverModule } from '../../homeserver/homeserver.module.js';
import { LoggerModule } from '../../http/logger.module.js';
import { StorageModule, type StorageHandles } from '../../storage/storage.module.js';
import { AdminModule } from '../admin.module.js';
import { ClockModule } from '../../clock/clock.module.js';
import { clockFor } from '../../clock/clock.js';

/**
 * The application as `causeway manage` needs it: the same services as the server (AdminService
 * and everything it drives), no HTTP, and an event bus that only writes the outbox (the serving
 * process delivers; this one may run while the homeserver or the server is down).
 */
@Module({})
export class ManageModule {
  static forRoot(deps: { config: GatewayConfig; storage: StorageHandles; keys: KeyStore; logger: Logger }): DynamicModule {
    return {
      module: ManageModule,
      imports: [
        ConfigModule.forRoot(deps.config),
        ClockModule.forRoot(clockFor(deps.config.dev_mode)),
        LoggerModule.forRoot(deps.logger),
        StorageModule.forRoot(deps.storage),
        CryptoModule.forRoot(deps.keys, 'unused-by-causeway-manage'),
        HealthModule,
        HomeserverModule,
        EventsModule.forRoot({ deliver: false }),
        AdminModule.forRoot(deps.config, { http: false }),
      ],
    };
  }
}
