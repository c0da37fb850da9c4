import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from './config.schema.js';

/** Injection token of the validated GatewayConfig: `@Inject(CONFIG) config: GatewayConfig`. */
export const CONFIG = Symbol('CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
