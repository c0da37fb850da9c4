import { Global, Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HomeserverAdapter } from './homeserver.adapter.js';
import { createHomeserverAdapter } from './homeserver.factory.js';

/** Provides the HomeserverAdapter chosen by `matrix.api` to the OAuth, identity, events and admin modules. */
@Global()
@Module({
  providers: [{ provide: HomeserverAdapter, inject: [CONFIG], useFactory: (config: GatewayConfig) => createHomeserverAdapter(config.matrix) }],
  exports: [HomeserverAdapter],
})
export class HomeserverModule {}
