import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { UpstreamConnector } from '../upstream/connector.js';
import { createDevConnector } from '../upstream/dev/dev.connector.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';

/** Picker order: `order` ascending (unset counts as 0), ties in YAML order. */
export function orderProviders<P extends { order?: number }>(providers: readonly P[]): P[] {
  return providers
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.order ?? 0) - (b.p.order ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * The configured providers and their connectors, built at start-up. Only `dev` is built here: the
 * broker's connector registry (src/upstream/connector-registry.ts) takes over with every kind.
 */
@Injectable()
export class UpstreamConnectors {
  private readonly connectors = new Map<string, UpstreamConnector>();
  private readonly ordered: readonly ProviderConfig[];

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    for (const p of config.upstream.providers) {
      if (p.kind !== 'dev') throw new Error(`upstream provider "${p.id}": the ${p.kind} connector is not available in this build`);
      this.connectors.set(p.id, createDevConnector(p, { publicBase: config.http.public_base }));
    }
    this.ordered = orderProviders(config.upstream.providers);
  }

  get(providerId: string): UpstreamConnector | undefined {
    return this.connectors.get(providerId);
  }

  list(): readonly ProviderConfig[] {
    return this.ordered;
  }
}
