import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { DOMParser } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { aggregateXml, certBody, syntheticIdp } from '../../../../../bench/saml-federation/aggregate.js';
import { ExcC14nWriter } from '../../../../../src/upstream/saml/federation/exc-c14n-stream.js';
import { decodeChunks, readAggregate } from '../../../../../src/upstream/saml/federation/aggregate-reader.js';
import { MetadataError } from '../../../../../src/upstream/saml/idp-metadata.js';
import { fixtureKeys, fixtureText } from '../../../../support/saml-forge.js';

const fed = fixtureKeys('metadata-signer');
const attacker = fixtureKeys('attacker');
const certs = ['idp', 'idp-next', 'sp'].map((n) => certBody(fixtureKeys(n as 'idp').cert));
const now = Date.now();
const DAY = 86_400_000;

/** Our streaming exc-c14n of a whole document. */
function streamC14n(xml: string): string {
  let out = '';
  const w = new ExcC14nWriter((s) => (out += s));
  const p = new SaxesParser({ xmlns: true });
  p.on('opentag', (t) => w.open(t));
  p.on('closetag', () => w.close());
  p.on('text', (t) => w.text(t));
  p.on('cdata', (t) => w.text(t));
  p.write(xml).close();
  return out;
}
/** xml-crypto's DOM-based exc-c14n of the document element. */
const domC14n = (xml: string) => new ExclusiveCanonicalization().process(new DOMParser().parseFromString(xml, 'text/xml').documentElement as never, {});

const read = (xml: string, o: Partial<{ signingCert: string; now: number; requireValidUntil: boolean }> = {}) =>
  readAggregate(decodeChunks(Buffer.from(xml), 4096), { signingCert: fed.cert, now, requireValidUntil: true, ...o });

describe('streaming exclusive canonicalisation agrees with xml-crypto', () => {
  const docs: Record<string, string> = {
    'namespaces declared high, used low; default namespace undone': '<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><b:x b:z="1" y="2"><y/><q xmlns=""><w/></q></b:x><a:c>t</a:c></a:r>',
    'attribute ordering by namespace URI then local name, xml:lang': '<r xmlns:z="urn:a" xmlns:a="urn:z"><e z:b="1" a:a="2" c="3" b="4" xml:lang="en"/></r>',
    'escaping in text and attributes, CDATA, line ends, comments dropped': '<r a="x&#9;y&#xA;z&quot;&lt;&amp;&gt;"><![CDATA[<&>]]>1 &gt; 0 &amp; 2 &lt; 3<!-- c -->\r\nnext&#xD;</r>',
    'redeclared prefix with another URI': '<p:r xmlns:p="urn:1"><p:x xmlns:p="urn:2"><p:y xmlns:p="urn:1"/></p:x></p:r>',
    'the generated federation entity (mdui, mdattr, shibmd)': aggregateXml({ entities: [syntheticIdp(7, { certs })] }),
  };
  for (const [name, xml] of Object.entries(docs)) {
    it(name, () => expect(streamC14n(xml)).toBe(domC14n(xml)));
  }
});

describe('readAggregate', () => {
  const entities = [0, 1, 2].map((i) => syntheticIdp(i, { certs }));
  const signedByXmlCrypto = aggregateXml({ entities, signer: fed, validUntil: now + DAY });

  it('accepts an aggregate signed with xml-crypto and one signed with xmlsec1, and reads every IdP', () => {
    for (const xml of [signedByXmlCrypto, aggregateXml({ entities, signer: fed, tool: 'xmlsec1', validUntil: now + DAY })]) {
      const r = read(xml);
      expect(r.entities.map((e) => e.entityId)).toEqual([0, 1, 2].map((i) => expect.stringMatching(new RegExp(`^https://idp${i}\\.`))));
      const e = r.entities[0]!;
      expect(e.displayNames.en).toMatch(/ \(en\)$/);
      expect(e.signingCerts).toEqual(certs.slice(0, 2)); // the last KeyDescriptor is use="encryption"
      expect(e.sso.redirect).toMatch(/^https:\/\/.*\/Redirect\/SSO$/);
      expect(e.logos.every((l) => l.url.startsWith('https://'))).toBe(true);
      expect(e.entityAttributes['http://macedir.org/entity-category-support']).toEqual(['http://refeds.org/category/research-and-scholarship']);
      expect(e.registrationAuthority).toMatch(/^http:\/\/www\.federation\d\.example\.org\/$/);
    }
  });

  it('a single changed character anywhere is refused (digest mismatch)', () => {
    expect(() => read(signedByXmlCrypto.replace('Technical team', 'Technical tea m').replace('/Redirect/SSO"', '/Redirect/SS0"'))).toThrow(/digest mismatch/);
  });

  it('an entity added after signing is refused', () => {
    const extra = signedByXmlCrypto.replace('</md:EntitiesDescriptor>', `${syntheticIdp(99, { certs })}</md:EntitiesDescriptor>`);
    expect(() => read(extra)).toThrow(MetadataError);
  });

  it('a signature by another key, or none, is refused', () => {
    expect(() => read(aggregateXml({ entities, signer: attacker, validUntil: now + DAY }))).toThrow(/not valid for the federation signing certificate/);
    expect(() => read(aggregateXml({ entities, validUntil: now + DAY }))).toThrow(/not signed/);
  });

  it('an expired aggregate, or one without validUntil, is refused', () => {
    expect(() => read(signedByXmlCrypto, { now: now + 2 * DAY })).toThrow(/expired/);
    const open = aggregateXml({ entities, signer: fed });
    expect(() => read(open)).toThrow(/no validUntil/);
    expect(read(open, { requireValidUntil: false }).entities).toHaveLength(3);
  });

  it('an expired entity is left out, the rest kept', () => {
    const expired = syntheticIdp(5, { certs }).replace('<md:EntityDescriptor ', `<md:EntityDescriptor validUntil="${new Date(now - 1000).toISOString()}" `);
    const r = read(aggregateXml({ entities: [...entities, expired], signer: fed, validUntil: now + DAY }));
    expect(r.entities).toHaveLength(3);
    expect(r.skipped).toBe(1);
  });

  it('refuses DTDs and entity declarations (billion laughs, XXE)', () => {
    for (const f of ['billion-laughs.xml', 'xxe.xml']) expect(() => read(fixtureText(f))).toThrow(MetadataError);
    const withDtd = signedByXmlCrypto.replace('<md:EntitiesDescriptor', '<!DOCTYPE md:EntitiesDescriptor [<!ENTITY x "y">]><md:EntitiesDescriptor');
    expect(() => read(withDtd)).toThrow(/DTD/);
  });

  it('refuses what is not an aggregate or not well-formed', () => {
    expect(() => read('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>')).toThrow(/expected md:EntitiesDescriptor/);
    expect(() => read(signedByXmlCrypto.slice(0, -10))).toThrow(MetadataError);
  });

  it('refuses a reference that does not cover the root (signature wrapping)', () => {
    const wrapped = signedByXmlCrypto.replace(/URI="#_aggregate"/, 'URI="#_other"');
    expect(() => read(wrapped)).toThrow(MetadataError);
  });

  it('decodes multi-byte characters split across chunks', () => {
    const e = syntheticIdp(3, { certs }).replace(/<mdui:DisplayName xml:lang="en">[^<]*</, '<mdui:DisplayName xml:lang="en">Universität Zürich Ωμέγα<');
    const r = readAggregate(decodeChunks(Buffer.from(aggregateXml({ entities: [e], signer: fed, validUntil: now + DAY })), 7), { signingCert: fed.cert, now, requireValidUntil: true });
    expect(r.entities[0]!.displayNames.en).toBe('Universität Zürich Ωμέγα');
  });
});

void readFileSync;
