import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry } from '../../health/health.registry.js';
import { MetricsService } from '../../health/metrics.service.js';
import { ConnectorRegistry } from '../connector-registry.js';
import { SamlConnector } from './saml.connector.js';
import { FederationSource } from './federation/federation-source.js';

/**
 * Runs the IdP metadata of the SAML connectors the registry built: the first load is awaited
 * before the server listens (so the first sign-in finds it), then each refreshes on its schedule;
 * each shows on /health/ready as `saml_metadata:{id}` (degraded, never down, while it fails).
 */
@Injectable()
export class SamlLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
  ) {}

  /** The SAML connector of a provider id (undefined for an unknown id or another kind). */
  connector(providerId: string): SamlConnector | undefined {
    const c = this.registry.get(providerId);
    return c instanceof SamlConnector ? c : undefined;
  }

  private all(): SamlConnector[] {
    return this.registry
      .list()
      .map((p) => this.connector(p.id))
      .filter((c): c is SamlConnector => !!c);
  }

  async onModuleInit() {
    const connectors = this.all();
    await Promise.all(connectors.map((c) => c.metadata.start()));
    for (const c of connectors) this.health.register({ name: `saml_metadata:${c.provider.id}`, check: async () => c.metadata.health() });
    if (connectors.length === 0) return;
    this.metrics.scrapeGauge('causeway_saml_metadata_age_seconds', 'Age of the IdP metadata each SAML provider uses (fetched or read; inline metadata is not listed)', ['provider'], (g) => {
      g.reset();
      for (const c of connectors) {
        const age = c.metadata.ageSeconds();
        if (age !== undefined) g.set({ provider: c.provider.id }, age);
      }
    });
    const federations = connectors.filter((c) => c.metadata instanceof FederationSource);
    if (federations.length === 0) return;
    this.metrics.scrapeGauge('causeway_saml_federation_idps', 'IdPs a SAML federation provider offers (after entity_filter), from the last good aggregate', ['provider'], (g) => {
      g.reset();
      for (const c of federations) g.set({ provider: c.provider.id }, (c.metadata as FederationSource).entityCount());
    });
    this.metrics.scrapeGauge('causeway_saml_federation_refresh_ok', 'Whether the last refresh of a SAML federation aggregate succeeded (0: it failed or was refused; the last good copy is in use)', ['provider'], (g) => {
      g.reset();
      for (const c of federations) g.set({ provider: c.provider.id }, (c.metadata as FederationSource).error() ? 0 : 1);
    });
  }

  onApplicationShutdown() {
    for (const c of this.all()) c.metadata.stop();
  }
}
