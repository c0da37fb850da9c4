import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { casEndpoints, explainFailure, isServiceTicket, parseLogoutRequest, parseValidationResponse } from '../../../../src/upstream/cas/cas-protocol.js';
import { CasXmlError, MAX_XML_BYTES, decodeEntities, parseXmlDocument } from '../../../../src/upstream/cas/cas-xml.js';
import { english } from '../../../support/i18n.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function refusal(fn: () => unknown): CasXmlError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CasXmlError) return e;
    throw e;
  }
  throw new Error('expected a CasXmlError');
}

describe('CAS validation answers (django-cas-server fixtures)', () => {
  it('reads the CAS 3 answer: user and multi-valued attributes', () => {
    const r = parseValidationResponse(fixture('django-p3-success.xml'));
    expect(r).toMatchObject({ ok: true, user: 'alice', attributeForm: 'cas3' });
    if (!r.ok) throw new Error('unreachable');
    expect(r.attributes).toMatchObject({
      uid: 'alice',
      mail: 'alice@example.org',
      displayName: 'Alice Liddell',
      eduPersonAffiliation: ['member', 'staff'],
      isFromNewLogin: 'true',
    });
  });

  it('reads only one form of the CAS 2 answer that carries attributes twice (no doubled values)', () => {
    const r = parseValidationResponse(fixture('django-cas2-success.xml'));
    if (!r.ok) throw new Error('expected success');
    expect(r.attributeForm).toBe('cas3');
    expect(r.attributes.eduPersonAffiliation).toEqual(['member', 'staff']);
    expect(r.attributes.mail).toBe('alice@example.org');
  });

  it.each([
    ['django-p3-invalid-ticket.xml', 'INVALID_TICKET'],
    ['django-p3-invalid-service.xml', 'INVALID_SERVICE'],
    ['django-p3-invalid-request.xml', 'INVALID_REQUEST'],
  ])('reads the failure code of %s', (file, code) => {
    const r = parseValidationResponse(fixture(file));
    expect(r).toMatchObject({ ok: false, code });
  });

  it('reads the Single Logout request: the service ticket in SessionIndex (NameID is empty)', () => {
    const { sessionIndex } = parseLogoutRequest(fixture('django-logout-request.xml'));
    expect(sessionIndex).toMatch(/^ST-[A-Za-z0-9]{20,}$/);
  });
});

describe('CAS validation answers (other servers and extensions)', () => {
  it('reads an Apereo CAS 3 answer: entities, character references and CDATA decoded, values kept as strings', () => {
    const r = parseValidationResponse(fixture('apereo-p3-success.xml'));
    if (!r.ok) throw new Error('expected success');
    expect(r.user).toBe('jdoe');
    expect(r.attributes.displayName).toBe('Jane & John Döe <Staff>');
    expect(r.attributes.memberOf).toEqual(['cn=staff,ou=groups,dc=example,dc=edu', 'cn=library,ou=groups,dc=example,dc=edu', 'cn=R&D <lab>,ou=groups,dc=example,dc=edu']);
    expect(r.attributes.employeeNumber).toBe('007');
  });

  it('reads a CAS 2 answer without attributes', () => {
    expect(parseValidationResponse(fixture('apereo-cas2-no-attributes.xml'))).toEqual({ ok: true, user: 'student42', attributes: {}, attributeForm: 'none' });
  });

  it('reads the name-value CAS 2 extension and drops names that would pollute prototypes', () => {
    const r = parseValidationResponse(fixture('name-value-cas2.xml'));
    if (!r.ok) throw new Error('expected success');
    expect(r.attributeForm).toBe('name-value');
    expect(r.attributes).toEqual({ mail: 'carol@example.org', groups: ['a', 'b & c'] });
    expect(Object.getPrototypeOf(r.attributes)).toBe(Object.prototype);
  });

  it('reads the RubyCAS-style extension, leaving protocol elements out', () => {
    const r = parseValidationResponse(fixture('rubycas-cas2.xml'));
    expect(r).toEqual({ ok: true, user: 'dave', attributes: { mail: 'dave@example.org' }, attributeForm: 'rubycas' });
  });

  it('resolves namespaces, not prefixes (a default namespace works)', () => {
    const r = parseValidationResponse(fixture('other-prefix.xml'));
    expect(r).toMatchObject({ ok: true, user: 'erin', attributes: { mail: 'erin@example.org' } });
  });

  it('reads an Apereo logoutRequest (NameID @NOT_USED@)', () => {
    expect(parseLogoutRequest(fixture('apereo-logout-request.xml'))).toEqual({ sessionIndex: 'ST-1-KJHuejjhJHGjhgfJHGJhgf-cas01.example.org' });
  });
});

describe('hostile XML is refused', () => {
  it.each([
    ['hostile-doctype-xxe.xml', 'doctype'],
    ['hostile-doctype-internal-entity.xml', 'doctype'],
    ['hostile-billion-laughs.xml', 'doctype'],
    ['hostile-html-error-page.xml', 'doctype'],
    ['hostile-undeclared-entity.xml', 'entity'],
    ['hostile-wrong-namespace.xml', 'unexpected'],
    ['hostile-two-users.xml', 'unexpected'],
    ['hostile-success-and-failure.xml', 'unexpected'],
    ['hostile-two-roots.xml', 'not_well_formed'],
    ['hostile-no-user.xml', 'unexpected'],
  ])('%s → %s', (file, reason) => {
    expect(refusal(() => parseValidationResponse(fixture(file))).reason).toBe(reason);
  });

  it('refuses a DOCTYPE in a logoutRequest', () => {
    expect(refusal(() => parseLogoutRequest(fixture('hostile-logout-doctype.xml'))).reason).toBe('doctype');
  });

  it('refuses a DOCTYPE whatever its case or spacing, and other markup declarations', () => {
    for (const xml of ['<!doctype a><a/>', '<?xml version="1.0"?>\n  <!DocType a SYSTEM "http://x/">\n<a/>', '<a><!ENTITY x "y"></a>', '<!ELEMENT a ANY><a/>']) {
      expect(refusal(() => parseXmlDocument(xml)).reason).toBe('doctype');
    }
  });

  it('allows comments and CDATA, which are not declarations', () => {
    expect(parseXmlDocument('<!-- note --><a><![CDATA[<!DOCTYPE x>]]></a>')).toMatchObject({ local: 'a', text: '<!DOCTYPE x>' });
  });

  it.each([
    ['not XML at all', 'ticket not found', 'not_well_formed'],
    ['unclosed element', '<a><b></a>', 'not_well_formed'],
    ['trailing garbage', '<a/>junk', 'not_well_formed'],
    ['undeclared prefix', '<x:a/>', 'not_well_formed'],
    ['bare ampersand in an attribute', '<a b="x & y"/>', 'entity'],
    ['character reference to a non-character', '<a>&#0;</a>', 'entity'],
    ['deep nesting', `${'<a>'.repeat(64)}${'</a>'.repeat(64)}`, 'not_well_formed'],
    ['many unterminated comments (linear scan, no backtracking)', `<a>${'<!--'.repeat(200_000)}`, 'not_well_formed'],
    ['text after a self-closing root', '<a/>junk<!-- -->', 'not_well_formed'],
  ])('%s', (_what, xml, reason) => {
    expect(refusal(() => parseXmlDocument(xml)).reason).toBe(reason);
  });

  it('refuses a document larger than the limit before parsing it', () => {
    const big = `<a>${'x'.repeat(MAX_XML_BYTES)}</a>`;
    expect(refusal(() => parseXmlDocument(big)).reason).toBe('too_large');
  });

  it('refuses a logoutRequest whose SessionIndex is not a service ticket', () => {
    const lr = (idx: string) => `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><samlp:SessionIndex>${idx}</samlp:SessionIndex></samlp:LogoutRequest>`;
    for (const idx of ['', 'PGT-1-abc', 'ST-', 'ST-a b', `ST-${'x'.repeat(300)}`]) {
      expect(refusal(() => parseLogoutRequest(lr(idx))).reason).toBe('unexpected');
    }
    expect(refusal(() => parseLogoutRequest('<LogoutRequest><SessionIndex>ST-1</SessionIndex></LogoutRequest>')).reason).toBe('unexpected');
  });
});

describe('entity decoding', () => {
  it('decodes the predefined entities and character references only', () => {
    expect(decodeEntities('a &lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600;')).toBe(`a <>&"' AB😀`);
    expect(() => decodeEntities('&eacute;')).toThrow(CasXmlError);
    expect(() => decodeEntities('&#xD800;')).toThrow(CasXmlError);
  });
});

describe('tickets, URLs and failure codes', () => {
  it('accepts service tickets only', () => {
    expect(isServiceTicket('ST-1-abc-cas01.example.org')).toBe(true);
    expect(isServiceTicket('PT-1-abc')).toBe(false);
    expect(isServiceTicket('ST-abc\n')).toBe(false);
    expect(isServiceTicket(['ST-1'])).toBe(false);
  });

  it('builds the endpoints per protocol', () => {
    expect(casEndpoints('https://cas.example.edu/cas/', 3).validate).toBe('https://cas.example.edu/cas/p3/serviceValidate');
    expect(casEndpoints('https://cas.example.edu/cas', 2).validate).toBe('https://cas.example.edu/cas/serviceValidate');
  });

  it('explains every failure code of the spec without echoing the server text', () => {
    for (const code of ['INVALID_TICKET', 'INVALID_TICKET_SPEC', 'INVALID_SERVICE', 'INVALID_REQUEST', 'UNAUTHORIZED_SERVICE', 'UNAUTHORIZED_SERVICE_PROXY', 'INTERNAL_ERROR', 'SOMETHING_NEW']) {
      const f = explainFailure(code);
      expect(english(f.message('Campus login'))).toMatch(/^Campus login /);
    }
    expect(explainFailure('INVALID_SERVICE').kind).toBe('audience_mismatch');
    expect(explainFailure('INTERNAL_ERROR').status).toBe(502);
  });
});
