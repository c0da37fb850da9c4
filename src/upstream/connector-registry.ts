import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HealthRegistry } from '../health/health.registry.js';
import { MetricsService } from '../health/metrics.service.js';
import { LOGGER } from '../http/logger.module.js';
import { KeyValueStore } from '../storage/kv-store.js';
import type { UpstreamConnector } from './connector.js';
import type { ConnectorDeps, ConnectorKind } from './connector-kind.js';
import { CONNECTOR_KINDS } from './connector-kinds.js';
import type { ProviderConfig } from './providers.schema.js';
import type { DefaultTemplates } from './mapping/claims-mapper.js';

/** The table entry of a provider's kind. */
function kindOf(provider: ProviderConfig): ConnectorKind {
  return CONNECTOR_KINDS[provider.kind] as ConnectorKind;
}

/** The claim templates used where a provider's `claims` section gives none. */
export function defaultTemplatesOf(provider: ProviderConfig): DefaultTemplates {
  const kind = kindOf(provider);
  return kind.defaultTemplatesFor?.(provider) ?? kind.defaultTemplates;
}

/** Builds one provider's connector through the table (the switch on kind lives there only). */
export function createConnector(provider: ProviderConfig, deps: ConnectorDeps): UpstreamConnector {
  return kindOf(provider).create(provider, deps);
}

/** Picker order: `order` ascending (unset counts as 0), ties in YAML order. */
export function orderProviders<P extends { order?: number }>(providers: readonly P[]): P[] {
  return providers
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.order ?? 0) - (b.p.order ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * The configured upstream providers and their connectors, built once from `upstream.providers`
 * (construction makes no network call), and their lifecycle, the same for every kind: before the
 * server listens each connector's `start()` is awaited (OIDC begins discovery in the background,
 * SAML loads its IdP metadata and schedules the refresh), its `health()` is shown on /health/ready
 * (`degraded`, never `down`: the other providers keep working), each kind's metrics are
 * registered; at shutdown each `stop()` runs.
 */
@Injectable()
export class ConnectorRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly connectors = new Map<string, UpstreamConnector>();
  private readonly ordered: readonly ProviderConfig[];

  constructor(
    @Inject(CONFIG) config: GatewayConfig<ProviderConfig>,
    kv: KeyValueStore,
    @Inject(LOGGER) logger: Logger,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
  ) {
    const deps: ConnectorDeps = { publicBase: config.http.public_base, kv, logger };
    for (const provider of config.upstream.providers) this.connectors.set(provider.id, createConnector(provider, deps));
    this.ordered = orderProviders(config.upstream.providers);
  }

  async onModuleInit(): Promise<void> {
    const all = [...this.connectors.values()];
    await Promise.all(all.map(async (c) => c.start?.()));
    for (const c of all) {
      const health = c.health?.bind(c);
      if (!health) continue;
      const name = kindOf(c.provider).healthComponent?.(c.provider.id) ?? `upstream:${c.provider.id}`;
      this.health.register({ name, check: async () => health() });
    }
    for (const kind of Object.values(CONNECTOR_KINDS) as ConnectorKind[]) {
      const ofKind = all.filter((c) => kindOf(c.provider) === kind);
      if (ofKind.length) kind.metrics?.(ofKind, this.metrics);
    }
  }

  onApplicationShutdown(): void {
    for (const c of this.connectors.values()) c.stop?.();
  }

  /** The connector of a provider id, or undefined for an id that is not configured (an unknown id in a URL). */
  get(providerId: string): UpstreamConnector | undefined {
    return this.connectors.get(providerId);
  }

  /** Providers in picker order. */
  list(): readonly ProviderConfig[] {
    return this.ordered;
  }
}
