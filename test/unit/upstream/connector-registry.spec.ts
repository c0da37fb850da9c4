import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { CONNECTOR_KINDS, createConnector, orderProviders } from '../../../src/upstream/connector-registry.js';
import { PROVIDER_KINDS, providerSchema } from '../../../src/upstream/providers.schema.js';
import { OidcConnector } from '../../../src/upstream/oidc/oidc.connector.js';
import { parseOptions } from '../../../src/config/secret-ref.js';
import type { KeyValueStore } from '../../../src/storage/kv-store.js';

describe('connector registry', () => {
  it('has exactly one entry per provider kind the config accepts, each with the config’s own schema', () => {
    expect(Object.keys(CONNECTOR_KINDS).sort()).toEqual([...PROVIDER_KINDS].sort());
    const options: unknown[] = providerSchema.options;
    for (const kind of PROVIDER_KINDS) expect(options).toContain(CONNECTOR_KINDS[kind].schema);
    expect(options).toHaveLength(PROVIDER_KINDS.length);
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
    ['lower order first', [{ id: 'a', order: 2 }, { id: 'b', order: 1 }, { id: 'c', order: 3 }], 'b a c'],
    ['unset counts as 0', [{ id: 'a', order: 5 }, { id: 'b' }, { id: 'c', order: -1 }], 'c b a'],
    ['ties keep YAML order', [{ id: 'a', order: 1 }, { id: 'b' }, { id: 'c', order: 1 }, { id: 'd', order: 0 }], 'b d a c'],
  ])('picker order: %s', (_name, providers, expected) => {
    expect(orderProviders(providers).map((p) => p.id).join(' ')).toBe(expected);
  });
});
