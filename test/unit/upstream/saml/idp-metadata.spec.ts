import { describe, expect, it } from '@jest/globals';
import { MetadataError, parseIdpMetadata } from '../../../../src/upstream/saml/idp-metadata.js';
import { fixtureKeys, fixtureText, idpMetadataXml } from '../../../support/saml-forge.js';

const idp = fixtureKeys('idp');
const next = fixtureKeys('idp-next');
const fed = fixtureKeys('metadata-signer');
const attacker = fixtureKeys('attacker');
const now = Date.now();
const ENTITY = 'https://idp.example.test/idp';
const doc = (o: Partial<Parameters<typeof idpMetadataXml>[0]> = {}) => idpMetadataXml({ entityId: ENTITY, ssoUrl: 'https://idp.example.test/sso', sloUrl: 'https://idp.example.test/slo', certs: [idp.cert], ...o });

describe('IdP metadata', () => {
  it('reads entity ID, endpoints and every signing certificate (rollover)', () => {
    const d = parseIdpMetadata(doc({ certs: [idp.cert, next.cert] }), { now });
    expect(d.entityId).toBe(ENTITY);
    expect(d.sso).toEqual({ redirect: 'https://idp.example.test/sso' });
    expect(d.slo).toEqual({ redirect: { location: 'https://idp.example.test/slo' } });
    expect(d.signingCerts).toHaveLength(2);
    expect(d.signingCerts[0]).toContain('-----BEGIN CERTIFICATE-----');
    expect(d.fingerprints[0]).toMatch(/^[0-9A-F:]+$/);
  });

  it('with a pinned signing certificate: accepts a document signed by it, refuses unsigned, wrongly signed or tampered ones', () => {
    expect(parseIdpMetadata(doc({ signer: fed }), { now, signingCert: fed.cert }).entityId).toBe(ENTITY);
    expect(() => parseIdpMetadata(doc(), { now, signingCert: fed.cert })).toThrow(/not signed/);
    expect(() => parseIdpMetadata(doc({ signer: attacker }), { now, signingCert: fed.cert })).toThrow(/not valid for metadata_signing_cert/);
    const tampered = doc({ signer: fed }).replace('https://idp.example.test/sso', 'https://evil.example/sso');
    expect(() => parseIdpMetadata(tampered, { now, signingCert: fed.cert })).toThrow(MetadataError);
  });

  it('refuses expired metadata (validUntil)', () => {
    expect(() => parseIdpMetadata(doc({ validUntil: now - 1000 }), { now })).toThrow(/expired/);
    expect(parseIdpMetadata(doc({ validUntil: now + 3600_000 }), { now }).validUntil).toBeGreaterThan(now);
  });

  it('picks one IdP out of an aggregate by idp_entity_id, and asks for it when there are several', () => {
    const one = doc().replace(/^<md:EntityDescriptor xmlns:md="[^"]+" xmlns:ds="[^"]+"/, '<md:EntityDescriptor');
    const two = one.replace(ENTITY, 'https://other.example.test/idp');
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${one}${two}</md:EntitiesDescriptor>`;
    expect(() => parseIdpMetadata(aggregate, { now })).toThrow(/lists 2 IdPs; set idp_entity_id/);
    expect(parseIdpMetadata(aggregate, { now, entityId: 'https://other.example.test/idp' }).entityId).toBe('https://other.example.test/idp');
    expect(() => parseIdpMetadata(aggregate, { now, entityId: 'https://nope.test/' })).toThrow(/no SAML 2.0 IdP with entityID/);
  });

  it('refuses DTDs, non-metadata documents and IdPs without a signing key', () => {
    expect(() => parseIdpMetadata(fixtureText('xxe.xml'), { now })).toThrow(/document type declaration/);
    expect(() => parseIdpMetadata('<foo/>', { now })).toThrow(/not SAML metadata/);
    expect(() => parseIdpMetadata(doc({ certs: [] }), { now })).toThrow(/no signing certificate/);
    expect(() => parseIdpMetadata('<md:EntityDescriptor', { now })).toThrow(/not well-formed/);
  });
});
