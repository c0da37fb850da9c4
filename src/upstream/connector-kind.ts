import type { Logger } from 'pino';
import type { z } from 'zod';
import type { MetricsService } from '../health/metrics.service.js';
import type { KeyValueStore } from '../storage/kv-store.js';
import type { UpstreamConnector } from './connector.js';
import type { DefaultTemplates } from './mapping/claims-mapper.js';

/** What every connector factory gets. */
export interface ConnectorDeps {
  /** `http.public_base` (ends with "/"): every URL a provider is given derives from it (upstream-urls.ts). */
  publicBase: string;
  /** Shared short-lived state: replay caches (assertion ids, tickets, logout token jtis). */
  kv: KeyValueStore;
  logger: Logger;
}

/** A provider schema the `kind` discriminated union accepts (a zod object with a literal `kind`). */
type ProviderSchema = z.core.$ZodTypeDiscriminable & z.ZodType<{ kind: string }>;

/**
 * One kind of upstream provider, as its folder exports it (`upstream/<kind>/<kind>.kind.ts`) and
 * `connector-kinds.ts` lists it: the config schema of its providers (the provider schema of the
 * configuration is the union of these), the connector factory, the default claim templates, and
 * how its connectors appear in /health/ready and the metrics. The lifecycle itself (`start`,
 * `stop`, `health`) is on the connector.
 */
export interface ConnectorKind<S extends ProviderSchema = ProviderSchema> {
  schema: S;
  /** Builds the connector. Must not touch the network: `start()` or the first sign-in does. */
  create(provider: z.output<S>, deps: ConnectorDeps): UpstreamConnector;
  /** Claims templates used when the provider's `claims` section gives none. */
  defaultTemplates: DefaultTemplates;
  /** Other defaults for some providers of the kind (a SAML federation's eduPerson attributes). */
  defaultTemplatesFor?(provider: z.output<S>): DefaultTemplates | undefined;
  /** The name of a connector's component on /health/ready (default `upstream:<id>`). */
  healthComponent?(providerId: string): string;
  /** Metrics over every connector of the kind, registered once at start-up. */
  metrics?(connectors: readonly UpstreamConnector[], metrics: MetricsService): void;
}
