import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { FederationSource, type FederationSettings } from '../../../../../src/upstream/saml/federation/federation-source.js';
import { decodeChunks, readAggregate } from '../../../../../src/upstream/saml/federation/aggregate-reader.js';
import type { AggregateParser } from '../../../../../src/upstream/saml/federation/aggregate-parser.js';
import { aggregateXml, certBody, syntheticIdp } from '../../../../../bench/saml-federation/aggregate.js';
import { fixtureKeys, idpMetadataXml } from '../../../../support/saml-forge.js';
import { MemoryKv } from '../../../../support/memory-kv.js';

const fed = fixtureKeys('metadata-signer');
const certs = [certBody(fixtureKeys('idp').cert), certBody(fixtureKeys('sp').cert)];
const URL_ = 'https://fed.example/aggregate.xml';
const MDQ = 'https://mdq.example/';
/** In process (the worker runs the same function): counts how often an aggregate is read. */
let reads = 0;
const parse: AggregateParser = async (bytes, opts) => {
  reads++;
  return { data: readAggregate(decodeChunks(bytes), opts), cpuMs: 0, wallMs: 0, heapUsedMb: 0 };
};
const settings = (o: Partial<FederationSettings> = {}): FederationSettings => ({
  metadata_url: URL_,
  signing_cert: fed.cert,
  refresh_interval: 3600,
  require_valid_until: true,
  entity_filter: { registration_authorities: [], entity_ids: [], exclude_entity_ids: [], entity_categories: [] },
  max_size_mb: 16,
  parse_timeout: 60,
  parse_memory_mb: 256,
  timeout_ms: 1000,
  remember_days: 90,
  ...o,
});

function serve(docs: Record<string, () => string | number>): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input);
    const d = docs[url];
    const body = d ? d() : 404;
    const res = typeof body === 'number' ? new Response('no', { status: body }) : new Response(body, { status: 200 });
    Object.defineProperty(res, 'url', { value: url });
    return res;
  }) as typeof fetch;
}

describe('FederationSource', () => {
  const good = aggregateXml({ entities: [0, 1].map((i) => syntheticIdp(i, { certs })), signer: fed, validUntil: Date.now() + 86_400_000 });

  it('does not hold up start-up: the first load runs in the background', async () => {
    const s = new FederationSource('fed', settings(), { kv: new MemoryKv(), logger: pino({ level: 'silent' }), fetch: serve({ [URL_]: () => good }), parse });
    await s.start();
    expect(s.current()).toBeUndefined();
    expect(s.health()).toMatchObject({ status: 'degraded', detail: expect.stringMatching(/loading/) });
    await s.whenStarted();
    s.stop();
    expect(s.current()?.size).toBe(2);
  });

  it('keeps the last good copy when a refresh is tampered, unreachable or expired; does not read an unchanged document again', async () => {
    let doc: () => string | number = () => good;
    const kv = new MemoryKv();
    const outcomes: boolean[] = [];
    const s = new FederationSource('fed', settings(), { kv, logger: pino({ level: 'silent' }), fetch: serve({ [URL_]: () => doc() }), parse, onRefresh: (o) => outcomes.push(o.ok) });
    reads = 0;
    await s.start();
    await s.whenStarted();
    s.stop();
    expect(s.error()).toBeUndefined();
    expect(s.current()?.size).toBe(2);
    expect(s.health().status).toBe('up');
    expect(kv.m.has('saml:federation:fed')).toBe(true);

    expect(await s.refresh()).toBe(true);
    expect(reads).toBe(1); // unchanged: not read again

    doc = () => good.replace('/Redirect/SSO"', '/Redirect/SS0"');
    expect(await s.refresh()).toBe(false);
    doc = () => 503;
    expect(await s.refresh()).toBe(false);
    expect(s.current()?.size).toBe(2);
    expect(s.health()).toMatchObject({ status: 'degraded', detail: expect.stringMatching(/2 IdPs.*last refresh failed.*HTTP 503/) });
    expect(s.error()).toMatch(/HTTP 503/);

    doc = () => good;
    expect(await s.refresh()).toBe(true);
    expect(s.health().status).toBe('up');
    expect(outcomes).toEqual([true, true, false, false, true]);
  });

  it('at start-up with the federation unreachable, uses the copy stored by an earlier run', async () => {
    const kv = new MemoryKv();
    const first = new FederationSource('fed', settings(), { kv, logger: pino({ level: 'silent' }), fetch: serve({ [URL_]: () => good }), parse });
    await first.start();
    await first.whenStarted();
    first.stop();
    const second = new FederationSource('fed', settings(), { kv, logger: pino({ level: 'silent' }), fetch: serve({ [URL_]: () => 500 }), parse });
    await second.start();
    await second.whenStarted();
    second.stop();
    expect(second.current()?.size).toBe(2);
    expect(second.health().status).toBe('degraded');
  });

  it('looks an IdP missing from the aggregate up over MDQ, only when signed by the federation', async () => {
    const entityId = 'https://idp.mdq-only.example/idp';
    const idp = fixtureKeys('idp');
    const signed = idpMetadataXml({ entityId, ssoUrl: 'https://idp.mdq-only.example/sso', certs: [idp.cert], signer: fed, validUntil: Date.now() + 86_400_000 });
    const unsigned = idpMetadataXml({ entityId: 'https://unsigned.example/idp', ssoUrl: 'https://unsigned.example/sso', certs: [idp.cert] });
    const fetchImpl = serve({ [URL_]: () => good, [`${MDQ}entities/${encodeURIComponent(entityId)}`]: () => signed, [`${MDQ}entities/${encodeURIComponent('https://unsigned.example/idp')}`]: () => unsigned });
    const s = new FederationSource('fed', settings({ mdq_url: MDQ }), { kv: new MemoryKv(), logger: pino({ level: 'silent' }), fetch: fetchImpl, parse });
    await s.start();
    await s.whenStarted();
    s.stop();
    expect(await s.descriptor(entityId)).toMatchObject({ entityId, sso: { redirect: 'https://idp.mdq-only.example/sso' } });
    expect(await s.descriptor('https://unsigned.example/idp')).toBeUndefined();
    const filtered = new FederationSource('fed', settings({ mdq_url: MDQ, entity_filter: { registration_authorities: ['https://ra.example'], entity_ids: [], exclude_entity_ids: [], entity_categories: [] } }), {
      kv: new MemoryKv(),
      logger: pino({ level: 'silent' }),
      fetch: fetchImpl,
      parse,
    });
    await filtered.start();
    await filtered.whenStarted();
    filtered.stop();
    expect(await filtered.descriptor(entityId)).toBeUndefined();
  });
});
