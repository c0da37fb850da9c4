import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { LOGGER } from '../../http/logger.module.js';
import { HealthRegistry } from '../../health/health.registry.js';
import { KeyValueStore } from '../../storage/kv-store.js';
import type { ProviderConfig } from '../providers.schema.js';
import type { SamlProviderConfig } from './saml.config.js';
import { IdpMetadataSource } from './idp-metadata.source.js';
import { SamlConnector } from './saml.connector.js';

/**
 * The SAML connectors, one per `kind: saml` provider, each with its IdP metadata source. Built
 * once: the connector registry hands out these same instances (see `samlConnectorFactory`), so
 * one metadata refresher runs per provider. Metadata is loaded before the server listens.
 */
@Injectable()
export class SamlConnectors implements OnModuleInit, OnApplicationShutdown {
  private readonly byId = new Map<string, { connector: SamlConnector; metadata: IdpMetadataSource }>();

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    kv: KeyValueStore,
    private readonly health: HealthRegistry,
    @Inject(LOGGER) logger: Logger,
  ) {
    for (const p of config.upstream.providers) {
      if (p.kind !== 'saml') continue;
      const metadata = new IdpMetadataSource(p, { kv, logger });
      const connector = new SamlConnector(p, { publicBase: config.http.public_base, kv, metadata, logger });
      this.byId.set(p.id, { connector, metadata });
    }
  }

  async onModuleInit() {
    await Promise.all([...this.byId.values()].map(({ metadata }) => metadata.start()));
    for (const [id, { metadata }] of this.byId) {
      this.health.register({ name: `saml_metadata:${id}`, check: async () => metadata.health() });
    }
  }

  onApplicationShutdown() {
    for (const { metadata } of this.byId.values()) metadata.stop();
  }

  get(id: string): SamlConnector | undefined {
    return this.byId.get(id)?.connector;
  }

  all(): SamlConnector[] {
    return [...this.byId.values()].map((e) => e.connector);
  }
}

/** For the connector registry (`kind` → factory): the SAML connector of a provider. */
export function samlConnectorFactory(connectors: SamlConnectors) {
  return (provider: ProviderConfig | SamlProviderConfig): SamlConnector => {
    const c = connectors.get(provider.id);
    if (!c) throw new Error(`no SAML connector for provider ${provider.id}`);
    return c;
  };
}
