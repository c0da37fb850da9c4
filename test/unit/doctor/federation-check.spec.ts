import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upstreamChecks } from '../../../src/doctor/checks/upstream.check.js';
import type { GatewayConfig } from '../../../src/config/config.schema.js';
import type { ProviderConfig } from '../../../src/upstream/providers.schema.js';
import { samlProviderSchema } from '../../../src/upstream/saml/saml.config.js';
import { aggregateXml, certBody, syntheticIdp } from '../../../bench/saml-federation/aggregate.js';
import { fixtureKeys } from '../../support/saml-forge.js';

/** `causeway doctor` on a federation provider: the aggregate's signature, the IdPs offered, its validUntil. */
const dir = mkdtempSync(join(tmpdir(), 'causeway-doctor-federation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fed = fixtureKeys('metadata-signer');
const sp = fixtureKeys('sp');
const certs = [certBody(fixtureKeys('idp').cert), certBody(fixtureKeys('expired').cert)];

async function doctor(xml: string, filter: Record<string, unknown> = {}) {
  const file = join(dir, `agg-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const p = samlProviderSchema.parse({
    id: 'fed',
    kind: 'saml',
    name: 'Federation',
    federation: { metadata_file: file, signing_cert: fed.cert, entity_filter: filter },
    sp: { key_file: sp.keyFile, cert_file: sp.certFile },
  });
  const [check] = upstreamChecks({ upstream: { providers: [p] } } as unknown as GatewayConfig<ProviderConfig>, []);
  return (await check!())[0]!;
}

describe('doctor: SAML federation', () => {
  const entities = [syntheticIdp(1, { certs: [certs[0]!, certs[0]!] }), syntheticIdp(2, { certs: [certs[1]!, certs[1]!] })];

  it('✔ with the count of IdPs, validUntil, and those signing only with expired certificates', async () => {
    const r = await doctor(aggregateXml({ entities, signer: fed, validUntil: Date.now() + 7 * 86_400_000 }));
    expect(r.ok).toBe(true);
    expect(r.detail).toMatch(/signed and valid: 2 IdPs offered \(2 in the aggregate/);
    expect(r.detail).toContain('1 of them sign only with expired certificates');
  });

  it('✖ for a tampered aggregate, one about to expire, or a filter that leaves nothing', async () => {
    const good = aggregateXml({ entities, signer: fed, validUntil: Date.now() + 7 * 86_400_000 });
    expect(await doctor(good.replace('Identity provider of', 'Identity provider for'))).toMatchObject({ ok: false, detail: expect.stringMatching(/refused: .*digest mismatch/) });
    expect(await doctor(aggregateXml({ entities, signer: fed, validUntil: Date.now() + 3_600_000 }))).toMatchObject({ ok: false, detail: expect.stringMatching(/expires in 1\.0 h/) });
    expect(await doctor(good, { entity_ids: ['https://nowhere.example/idp'] })).toMatchObject({ ok: false, detail: expect.stringMatching(/no IdP left after entity_filter/) });
  });
});
