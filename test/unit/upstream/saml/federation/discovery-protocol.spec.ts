import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { samlProviderSchema } from '../../../../../src/upstream/saml/saml.config.js';
import { createSamlConnector } from '../../../../../src/upstream/saml/saml.connector.js';
import { fixtureKeys } from '../../../../support/saml-forge.js';
import { MemoryKv } from '../../../../support/memory-kv.js';

/** A federation provider's begin(): Causeway's discovery page, or an external WAYF by the SAML IdP Discovery protocol. */
describe('federation discovery hand-off', () => {
  const sp = fixtureKeys('sp');
  const provider = (extra: Record<string, unknown>) =>
    samlProviderSchema.parse({
      id: 'fed',
      kind: 'saml',
      name: 'Federation',
      federation: { metadata_url: 'https://fed.example/aggregate.xml', signing_cert: fixtureKeys('metadata-signer').cert, ...extra },
      sp: { key_file: sp.keyFile, cert_file: sp.certFile },
    });
  const ctx = { loginId: 'L', state: 'the-state', callbackUrl: 'https://auth.example/upstream/fed/callback', prompt: [] };

  it('without discovery_url: to the discovery page, with a session that keeps the login state', async () => {
    const kv = new MemoryKv();
    const c = createSamlConnector(provider({}), { publicBase: 'https://auth.example/', kv, logger: pino({ level: 'silent' }) });
    const begun = await c.begin(ctx);
    const url = new URL(begun.redirectUrl!);
    expect(`${url.origin}${url.pathname}`).toBe('https://auth.example/upstream/fed/saml/discovery');
    const session = await c.discoverySession(url.searchParams.get('s')!);
    expect(session).toMatchObject({ state: 'the-state', requestId: begun.saved.requestId });
    expect(await c.discoverySession('x'.repeat(32))).toBeUndefined();
  });

  it('with discovery_url: to the WAYF with entityID, return and returnIDParam', async () => {
    const c = createSamlConnector(provider({ discovery_url: 'https://wayf.example/DS?x=1' }), { publicBase: 'https://auth.example/', kv: new MemoryKv(), logger: pino({ level: 'silent' }) });
    const url = new URL((await c.begin(ctx)).redirectUrl!);
    expect(`${url.origin}${url.pathname}`).toBe('https://wayf.example/DS');
    expect(url.searchParams.get('x')).toBe('1');
    expect(url.searchParams.get('entityID')).toBe('https://auth.example/upstream/fed/saml/metadata');
    expect(url.searchParams.get('returnIDParam')).toBe('entityID');
    expect(url.searchParams.get('return')).toMatch(/^https:\/\/auth\.example\/upstream\/fed\/saml\/discovery\/choose\?s=[A-Za-z0-9_-]{32}$/);
  });
});
