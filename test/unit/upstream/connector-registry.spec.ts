import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ConnectorRegistry, createConnector, orderProviders } from '../../../src/upstream/connector-registry.js';
import { CONNECTOR_KINDS } from '../../../src/upstream/connector-kinds.js';
import { PROVIDER_KINDS, providerSchema } from '../../../src/upstream/providers.schema.js';
import { gatewayConfigSchema } from '../../../src/upstream/gateway-config.schema.js';
import { OidcConnector } from '../../../src/upstream/oidc/oidc.connector.js';
import { parseOptions } from '../../../src/config/secret-ref.js';
import type { KeyValueStore } from '../../../src/storage/kv-store.js';
import type { GatewayConfig } from '../../../src/config/config.schema.js';
import { HealthRegistry } from '../../../src/health/health.registry.js';
import { MetricsService } from '../../../src/health/metrics.service.js';
import type { ConnectorKind } from '../../../src/upstream/connector-kind.js';
import type { ConnectorHealth, UpstreamConnector } from '../../../src/upstream/connector.js';
import type { ProviderConfig } from '../../../src/upstream/providers.schema.js';

const UPSTREAM = fileURLToPath(new URL('../../../src/upstream/', import.meta.url));

describe('connector registry', () => {
  it('has exactly one entry per provider kind the config accepts, each with the config’s own schema', () => {
    expect(Object.keys(CONNECTOR_KINDS).sort()).toEqual([...PROVIDER_KINDS].sort());
    const options: unknown[] = providerSchema.options;
    for (const kind of PROVIDER_KINDS) expect(options).toContain(CONNECTOR_KINDS[kind].schema);
    expect(options).toHaveLength(PROVIDER_KINDS.length);
    // Each schema accepts its own kind only: the table key is the `kind` the YAML names.
    for (const kind of PROVIDER_KINDS) expect([...(CONNECTOR_KINDS[kind].schema._zod.propValues?.kind ?? [])]).toEqual([kind]);
    // The file's schema (what the loader is given) validates `upstream.providers` with that union.
    expect(gatewayConfigSchema.shape.upstream.shape.providers.element).toBe(providerSchema);
  });

  it('lists every connector folder (a folder with a <kind>.kind.ts is one line in connector-kinds.ts)', () => {
    const folders = readdirSync(UPSTREAM, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(`${UPSTREAM}${e.name}/${e.name}.kind.ts`))
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual(Object.keys(CONNECTOR_KINDS).sort());
  });

  it('builds an OIDC connector without touching the network', () => {
    parseOptions.devMode = true;
    try {
      const provider = providerSchema.parse({ id: 'x', name: 'X', kind: 'oidc', issuer: 'https://idp.invalid/', client_id: 'c', client_secret: 's' });
      // A KeyValueStore that fails on any use: construction must not need it either.
      const kv = new Proxy({}, { get: () => () => Promise.reject(new Error('no I/O at construction')) }) as KeyValueStore;
      const connector = createConnector(provider, { publicBase: 'https://auth.example.com/', kv, logger: pino({ level: 'silent' }) });
      expect(connector).toBeInstanceOf(OidcConnector);
      expect((connector as OidcConnector).health()).toEqual({ status: 'up', detail: 'metadata not fetched yet' });
    } finally {
      parseOptions.devMode = false;
    }
  });

  it.each([
    ['YAML order when no order is set', [{ id: 'a' }, { id: 'b' }, { id: 'c' }], 'a b c'],
    [
      'lower order first',
      [
        { id: 'a', order: 2 },
        { id: 'b', order: 1 },
        { id: 'c', order: 3 },
      ],
      'b a c',
    ],
    ['unset counts as 0', [{ id: 'a', order: 5 }, { id: 'b' }, { id: 'c', order: -1 }], 'c b a'],
    ['ties keep YAML order', [{ id: 'a', order: 1 }, { id: 'b' }, { id: 'c', order: 1 }, { id: 'd', order: 0 }], 'b d a c'],
  ])('picker order: %s', (_name, providers, expected) => {
    expect(
      orderProviders(providers)
        .map((p) => p.id)
        .join(' '),
    ).toBe(expected);
  });

  it('runs the same lifecycle for every kind: start before listening, health on /health/ready, stop at shutdown', async () => {
    const calls: string[] = [];
    const saved = { ...CONNECTOR_KINDS };
    const table = CONNECTOR_KINDS as Record<string, ConnectorKind>;
    try {
      for (const kind of PROVIDER_KINDS) {
        table[kind] = {
          ...saved[kind],
          create: (provider: ProviderConfig): UpstreamConnector => ({
            provider,
            begin: async () => ({ saved: {} }),
            extractState: () => undefined,
            complete: async () => Promise.reject(new Error('not in this test')),
            start: async () => void calls.push(`start ${provider.id}`),
            stop: () => void calls.push(`stop ${provider.id}`),
            health: (): ConnectorHealth => ({ status: 'degraded', detail: `${provider.kind} checked` }),
          }),
        } as ConnectorKind;
      }
      const providers = PROVIDER_KINDS.map((kind) => ({ id: `p-${kind}`, kind })) as unknown as ProviderConfig[];
      const config = { http: { public_base: 'https://auth.example.com/' }, upstream: { providers } } as unknown as GatewayConfig<ProviderConfig>;
      const health = new HealthRegistry();
      const registry = new ConnectorRegistry(config, {} as KeyValueStore, pino({ level: 'silent' }), health, new MetricsService());
      expect(calls).toEqual([]);
      await registry.onModuleInit();
      expect(calls.sort()).toEqual(PROVIDER_KINDS.map((k) => `start p-${k}`).sort());
      const { components } = await health.run();
      for (const kind of PROVIDER_KINDS) {
        const name = saved[kind].healthComponent?.(`p-${kind}`) ?? `upstream:p-${kind}`;
        expect(components[name]).toEqual({ status: 'degraded', detail: `${kind} checked` });
      }
      calls.length = 0;
      registry.onApplicationShutdown();
      expect(calls.sort()).toEqual(PROVIDER_KINDS.map((k) => `stop p-${k}`).sort());
    } finally {
      Object.assign(table, saved);
    }
  });
});
