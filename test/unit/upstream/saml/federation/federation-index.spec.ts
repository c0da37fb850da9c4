import { describe, expect, it } from '@jest/globals';
import { FederationIndex, fold, matchesFilter } from '../../../../../src/upstream/saml/federation/federation-index.js';
import type { FederationEntity } from '../../../../../src/upstream/saml/federation/aggregate-reader.js';
import { federationSubject } from '../../../../../src/upstream/saml/saml.connector.js';
import { ProviderMapping, scopedSubject } from '../../../../../src/upstream/mapping/claims-mapper.js';
import { claimsSection } from '../../../../../src/upstream/mapping/claims.config.js';
import { FEDERATION_DEFAULT_TEMPLATES } from '../../../../../src/upstream/saml/saml.kind.js';
import { fixtureKeys } from '../../../../support/saml-forge.js';
import { certBody } from '../../../../../bench/saml-federation/aggregate.js';

const entity = (id: string, o: Partial<FederationEntity> = {}): FederationEntity => ({
  entityId: id,
  entityAttributes: {},
  displayNames: {},
  organizationNames: {},
  logos: [],
  scopes: [],
  domainHints: [],
  sso: { redirect: `${id}/sso` },
  signingCerts: [certBody(fixtureKeys('idp').cert)],
  wantAuthnRequestsSigned: false,
  ...o,
});
const noFilter = { registration_authorities: [], entity_ids: [], exclude_entity_ids: [], entity_categories: [] };
const data = (entities: FederationEntity[]) => ({ entities, entityDescriptors: entities.length, skipped: 0 });

describe('federation index', () => {
  const zurich = entity('https://idp.uzh.example/idp', { displayNames: { en: 'University of Zurich', de: 'Universität Zürich' }, scopes: ['uzh.example'], registrationAuthority: 'http://rr.aai.switch.ch/' });
  const tum = entity('https://login.tum.example/idp', {
    displayNames: { en: 'Technical University of Munich' },
    domainHints: ['tum.example'],
    entityAttributes: { 'http://macedir.org/entity-category-support': ['http://refeds.org/category/research-and-scholarship'] },
  });
  const hidden = entity('https://hidden.example/idp', { displayNames: { en: 'Hidden University' }, entityAttributes: { 'http://macedir.org/entity-category': ['http://refeds.org/category/hide-from-discovery'] } });
  const index = new FederationIndex(data([tum, zurich, hidden]), noFilter);

  it('searches names in every language without accents, domains (also from an email address), entity IDs', () => {
    expect(index.search('zurich', 'en', 1, 20).items.map((i) => i.entityId)).toEqual([zurich.entityId]);
    expect(index.search('universität zür', 'de', 1, 20).items[0]!.name).toBe('Universität Zürich');
    expect(index.search('alice@tum.example', 'en', 1, 20).items.map((i) => i.entityId)).toEqual([tum.entityId]);
    expect(index.search('bob@mail.uzh.example', 'en', 1, 20).items.map((i) => i.entityId)).toEqual([zurich.entityId]);
    expect(index.search('login.tum', 'en', 1, 20).total).toBe(1);
    expect(index.search('bob@evil-uzh.example', 'en', 1, 20).total).toBe(0);
  });

  it('hides hide-from-discovery IdPs from the list but still knows them', () => {
    expect(index.search('', 'en', 1, 20).total).toBe(2);
    expect(index.get(hidden.entityId)).toBeDefined();
  });

  it('pages and sorts by name, prefix matches first', () => {
    const many = new FederationIndex(data(Array.from({ length: 45 }, (_, i) => entity(`https://e${i}.example/idp`, { displayNames: { en: `Org ${String(i).padStart(2, '0')}` } }))), noFilter);
    const p3 = many.search('', 'en', 3, 20);
    expect(p3.total).toBe(45);
    expect(p3.items.map((i) => i.name)).toEqual(['Org 40', 'Org 41', 'Org 42', 'Org 43', 'Org 44']);
    expect(index.search('university', 'en', 1, 20).items[0]!.name).toBe('University of Zurich');
  });

  it('filters by registration authority, entity category, entity IDs', () => {
    expect(matchesFilter(zurich, { ...noFilter, registration_authorities: ['http://rr.aai.switch.ch/'] })).toBe(true);
    expect(matchesFilter(tum, { ...noFilter, registration_authorities: ['http://rr.aai.switch.ch/'] })).toBe(false);
    expect(matchesFilter(tum, { ...noFilter, entity_categories: ['http://refeds.org/category/research-and-scholarship'] })).toBe(true);
    expect(matchesFilter(zurich, { ...noFilter, entity_categories: ['http://refeds.org/category/research-and-scholarship'] })).toBe(false);
    expect(matchesFilter(zurich, { ...noFilter, exclude_entity_ids: [zurich.entityId] })).toBe(false);
    expect(new FederationIndex(data([tum, zurich]), { ...noFilter, entity_ids: [tum.entityId] }).size).toBe(1);
  });

  it('builds the descriptor from the entity, undefined once expired or with a broken certificate', () => {
    expect(index.descriptor(zurich.entityId, Date.now())).toMatchObject({ entityId: zurich.entityId, sso: { redirect: `${zurich.entityId}/sso` } });
    const expired = new FederationIndex(data([entity('https://x.example/idp', { validUntil: 1000 })]), noFilter);
    expect(expired.descriptor('https://x.example/idp', 2000)).toBeUndefined();
    const broken = new FederationIndex(data([entity('https://y.example/idp', { signingCerts: ['AAAA'] })]), noFilter);
    expect(broken.descriptor('https://y.example/idp', Date.now())).toBeUndefined();
  });

  it('folds accents and case', () => expect(fold('Universität ZÜRICH')).toBe('universitat zurich'));
});

describe('federation subject and claims defaults', () => {
  it('takes pairwise-id, subject-id, eduPersonTargetedID, eduPersonPrincipalName, then a persistent NameID', () => {
    const nameId = { value: 'nid', format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' };
    expect(federationSubject({ pairwise_id: 'pw@x', subject_id: 's@x', eduPersonPrincipalName: 'e@x' }, nameId, false)).toBe('pw@x');
    expect(federationSubject({ subject_id: 's@x', eduPersonTargetedID: 't' }, nameId, false)).toBe('s@x');
    expect(federationSubject({ eduPersonTargetedID: ['t'], eduPersonPrincipalName: 'e@x' }, nameId, false)).toBe('t');
    expect(federationSubject({ eduPersonPrincipalName: 'e@x' }, nameId, false)).toBe('e@x');
    expect(federationSubject({}, nameId, false)).toBe('nid');
    expect(() => federationSubject({}, { value: 't', format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' }, false)).toThrow();
  });

  it('scopes the mapped subject by the IdP, so equal NameIDs at two IdPs are two identities', () => {
    const mapping = new ProviderMapping({ id: 'fed', claims: claimsSection.parse({}), attribute_requirements: [], on_conflict: 'fail' }, FEDERATION_DEFAULT_TEMPLATES);
    const policy = { serverName: 'example.org', reserved: [] };
    const at = (idp: string) => mapping.map({ providerId: 'fed', subject: 'same', subjectScope: idp, attributes: { eduPersonPrincipalName: 'alice@a.example', displayName: 'Alice', mail: 'alice@a.example' } }, policy);
    const a = at('https://a.example/idp');
    const b = at('https://b.example/idp');
    if (!a.ok || !b.ok) throw new Error('mapping failed');
    expect(a.identity.subject).toBe(scopedSubject('https://a.example/idp', 'same'));
    expect(a.identity.subject).not.toBe(b.identity.subject);
    expect(a.identity.localpart).toMatchObject({ value: 'alice' });
    expect(a.identity.displayname).toMatchObject({ value: 'Alice' });
    const cn = mapping.map({ providerId: 'fed', subject: 's', subjectScope: 'x', attributes: { cn: 'Alice Cn', uid: 'alice' } }, policy);
    if (!cn.ok) throw new Error(JSON.stringify(cn.failure));
    expect(cn.identity.displayname).toMatchObject({ value: 'Alice Cn' });
  });
});
