import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LOGGER } from '../http/logger.module.js';
import { KeyValueStore } from '../storage/kv-store.js';
import type { UpstreamConnector } from './connector.js';
import type { DefaultTemplates } from './mapping/claims-mapper.js';
import type { ProviderConfig } from './providers.schema.js';
import { devProviderSchema } from './dev/dev.config.js';
import { oidcProviderSchema } from './oidc/oidc.config.js';
import { samlProviderSchema } from './saml/saml.config.js';
import { oauth2ProviderSchema } from './oauth2/oauth2.config.js';
import { createOAuth2Connector } from './oauth2/oauth2.connector.js';
import { casProviderSchema } from './cas/cas.config.js';
import { createOidcConnector, OidcConnector } from './oidc/oidc.connector.js';
import { HealthRegistry } from '../health/health.registry.js';
import { createDevConnector } from './dev/dev.connector.js';
import { createCasConnector } from './cas/cas.connector.js';
import { createSamlConnector } from './saml/saml.connector.js';

/** What every connector factory gets. */
export interface ConnectorDeps {
  /** `http.public_base` (ends with "/"): callback, metadata and service URLs derive from it. */
  publicBase: string;
  /** Shared short-lived state: replay caches (assertion ids, tickets, logout token jtis). */
  kv: KeyValueStore;
  logger: Logger;
}

export type ProviderKind = ProviderConfig['kind'];
type ConfigOf<K extends ProviderKind> = Extract<ProviderConfig, { kind: K }>;

export interface ConnectorKind<K extends ProviderKind> {
  /** The provider's config schema (the same object providers.schema.ts puts in the union). */
  schema: z.ZodType;
  /** Builds the connector. Must not touch the network: metadata/discovery is fetched on first use. */
  create(provider: ConfigOf<K>, deps: ConnectorDeps): UpstreamConnector;
  /** Claims templates used when the provider's `claims` section gives none. */
  defaultTemplates: DefaultTemplates;
}

/**
 * The one table of upstream kinds: `kind` → config schema, factory, default claim templates.
 * Typed over ProviderConfig's discriminated union, so a kind the config accepts cannot be missing
 * here (and the config rejects every other kind).
 */
export const CONNECTOR_KINDS: { readonly [K in ProviderKind]: ConnectorKind<K> } = {
  oidc: {
    schema: oidcProviderSchema,
    create: createOidcConnector,
    defaultTemplates: {
      localpart: '{{ user.preferred_username }}',
      displayname: '{{ user.name }}',
      // Only an address the IdP says it verified.
      email: '{% if user.email_verified == "true" %}{{ user.email }}{% endif %}',
    },
  },
  oauth2: {
    schema: oauth2ProviderSchema,
    create: createOAuth2Connector,
    // APIs differ: every claim template should be set in the provider's config (the examples do).
    defaultTemplates: { localpart: '{{ user.login }}', displayname: '{{ user.name }}' },
  },
  saml: {
    schema: samlProviderSchema,
    create: createSamlConnector,
    defaultTemplates: { localpart: '{{ user.uid }}', displayname: '{{ user.displayName }}', email: '{{ user.mail }}' },
  },
  cas: {
    schema: casProviderSchema,
    create: createCasConnector,
    defaultTemplates: { localpart: '{{ user.user }}', displayname: '{{ user.displayName }}', email: '{{ user.mail }}' },
  },
  dev: {
    schema: devProviderSchema,
    create: createDevConnector,
    // The dev form's fields.
    defaultTemplates: { localpart: '{{ user.username }}', displayname: '{{ user.displayName }}', email: '{{ user.email }}' },
  },
};

/**
 * Claims defaults of a SAML federation provider (eduPerson, as eduGAIN IdPs release it to
 * research-and-scholarship services): the person's name from displayName or cn, mail, and a
 * localpart suggested from eduPersonPrincipalName. The subject is the connector's
 * (federationSubject: pairwise-id, subject-id, eduPersonTargetedID, eduPersonPrincipalName).
 */
export const FEDERATION_DEFAULT_TEMPLATES: DefaultTemplates = {
  localpart: '{% if user.eduPersonPrincipalName %}{{ user.eduPersonPrincipalName | localpart_from_email }}{% else %}{{ user.uid }}{% endif %}',
  displayname: '{% if user.displayName %}{{ user.displayName }}{% else %}{{ user.cn }}{% endif %}',
  email: '{{ user.mail }}',
};

/** The claim templates used where a provider's `claims` section gives none. */
export function defaultTemplatesOf(provider: ProviderConfig): DefaultTemplates {
  if (provider.kind === 'saml' && provider.federation) return FEDERATION_DEFAULT_TEMPLATES;
  return CONNECTOR_KINDS[provider.kind].defaultTemplates;
}

/** Builds one provider's connector through the table (the switch on kind lives here only). */
export function createConnector(provider: ProviderConfig, deps: ConnectorDeps): UpstreamConnector {
  const kind = CONNECTOR_KINDS[provider.kind] as ConnectorKind<ProviderKind>;
  return kind.create(provider as never, deps);
}

/** Picker order: `order` ascending (unset counts as 0), ties in YAML order. */
export function orderProviders<P extends { order?: number }>(providers: readonly P[]): P[] {
  return providers
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.order ?? 0) - (b.p.order ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * The configured upstream providers and their connectors, built once at start-up from
 * `upstream.providers`. Construction makes no network call. Once the application has started,
 * OIDC discovery begins in the background (failures are logged naming the provider and retried on
 * use; the first sign-in fetches the metadata if it is still missing), and each OIDC provider
 * reports in /health/ready (`degraded`, never `down`: the other providers keep working).
 */
@Injectable()
export class ConnectorRegistry implements OnApplicationBootstrap {
  private readonly connectors = new Map<string, UpstreamConnector>();
  private readonly ordered: readonly ProviderConfig[];

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    kv: KeyValueStore,
    @Inject(LOGGER) logger: Logger,
    private readonly health: HealthRegistry,
  ) {
    const deps: ConnectorDeps = { publicBase: config.http.public_base, kv, logger };
    for (const provider of config.upstream.providers) this.connectors.set(provider.id, createConnector(provider, deps));
    this.ordered = orderProviders(config.upstream.providers);
  }

  onApplicationBootstrap(): void {
    for (const [id, connector] of this.connectors) {
      if (!(connector instanceof OidcConnector)) continue;
      this.health.register({ name: `upstream:${id}`, check: async () => connector.health() });
      connector.warmUp();
    }
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
