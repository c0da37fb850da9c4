import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from './config.schema.js';

/**
 * Injection token of the validated GatewayConfig: `@Inject(CONFIG) config: GatewayConfig`. main.ts
 * validates it with the file's schema (upstream/gateway-config.schema.ts), so its providers are
 * upstream's `ProviderConfig`: a module above upstream/ may inject `GatewayConfig<ProviderConfig>`.
 */
export const CONFIG = Symbol('CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
