import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { NAMEID_TRANSIENT, b64, firstByLocalName, fixtureKeys, fixtureText, newId, responseXml, signAssertion, signResponse, withDom, type ResponseOptions } from './saml-forge.js';

/**
 * The hostile SAML responses, one per attack, shared by the in-process connector tests and the
 * wire tests against a running Causeway. Each builds a `SAMLResponse` form value for one login
 * (its AuthnRequest ID is `requestId`) and names the refusal expected: the UpstreamError kind and
 * words the error page must show.
 */
export interface LoginUnderAttack {
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  requestId: string;
  /** The AuthnRequest ID of another login of the same browser/attacker. */
  otherRequestId: string;
}

export interface HostileCase {
  name: string;
  build(l: LoginUnderAttack): string;
  kind: string;
  /** Text the page must contain. */
  says: RegExp;
}

const idp = fixtureKeys('idp');
const attacker = fixtureKeys('attacker');

export const base = (l: LoginUnderAttack, extra: Partial<ResponseOptions> = {}): ResponseOptions => ({
  idpEntityId: l.idpEntityId,
  spEntityId: l.spEntityId,
  acsUrl: l.acsUrl,
  inResponseTo: l.requestId,
  nameId: 'opaque-alice-1234',
  attributes: [
    { name: 'urn:oid:0.9.2342.19200300.100.1.1', friendlyName: 'uid', values: ['alice'] },
    { name: 'urn:oid:0.9.2342.19200300.100.1.3', friendlyName: 'mail', values: ['alice@example.org'] },
    { name: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1', values: ['member', 'staff'] },
  ],
  ...extra,
});

/** A correctly signed response for this login (the baseline every attack starts from). */
export const goodResponse = (l: LoginUnderAttack, extra: Partial<ResponseOptions> = {}) => signAssertion(responseXml(base(l, extra)), idp);

/** The evil twin an attacker wants accepted: same shape, their chosen identity, no valid signature. */
const evilAssertion = (doc: Document, l: LoginUnderAttack, id = newId()) => {
  const src = responseXml(base(l, { nameId: 'opaque-mallory-victim', assertionId: id }));
  return doc.importNode(firstByLocalName(new DOMParser().parseFromString(src, 'text/xml'), 'Assertion'), true) as Element;
};

const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';

export const HOSTILE_CASES: HostileCase[] = [
  {
    name: 'unsigned assertion',
    build: (l) => b64(responseXml(base(l))),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'assertion signed by an untrusted key',
    build: (l) => b64(signAssertion(responseXml(base(l)), attacker)),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'response signed by an untrusted key around an unsigned assertion',
    build: (l) => b64(signResponse(responseXml(base(l)), attacker)),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'wrapping: extra unsigned assertion before the signed one',
    build: (l) =>
      b64(
        withDom(goodResponse(l), (doc) => {
          const signed = firstByLocalName(doc, 'Assertion');
          signed.parentNode!.insertBefore(evilAssertion(doc, l), signed);
        }),
      ),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'wrapping: extra unsigned assertion after the signed one',
    build: (l) =>
      b64(
        withDom(goodResponse(l), (doc) => {
          const signed = firstByLocalName(doc, 'Assertion');
          signed.parentNode!.appendChild(evilAssertion(doc, l));
        }),
      ),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'wrapping: signed assertion moved into samlp:Extensions, evil assertion carrying its signature in its place',
    build: (l) =>
      b64(
        withDom(goodResponse(l), (doc) => {
          const signed = firstByLocalName(doc, 'Assertion');
          const response = signed.parentNode!;
          const evil = evilAssertion(doc, l);
          const sig = firstByLocalName(signed, 'Signature');
          evil.insertBefore(sig.cloneNode(true), evil.firstChild!.nextSibling);
          const ext = doc.createElementNS(SAMLP, 'samlp:Extensions');
          response.replaceChild(evil, signed);
          ext.appendChild(signed);
          response.insertBefore(ext, firstByLocalName(doc, 'Status'));
        }),
      ),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'wrapping: signed assertion moved into ds:Object of the signature of an evil assertion',
    build: (l) =>
      b64(
        withDom(goodResponse(l), (doc) => {
          const signed = firstByLocalName(doc, 'Assertion');
          const response = signed.parentNode!;
          const evil = evilAssertion(doc, l);
          const sig = firstByLocalName(signed, 'Signature').cloneNode(true) as ReturnType<typeof firstByLocalName>;
          const object = doc.createElementNS('http://www.w3.org/2000/09/xmldsig#', 'ds:Object');
          response.replaceChild(evil, signed);
          object.appendChild(signed);
          sig.appendChild(object);
          evil.insertBefore(sig, evil.firstChild!.nextSibling);
        }),
      ),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'wrapping: duplicated IDs (evil assertion with the signed one’s ID, signed one hidden in Extensions)',
    build: (l) =>
      b64(
        withDom(goodResponse(l), (doc) => {
          const signed = firstByLocalName(doc, 'Assertion');
          const response = signed.parentNode!;
          const evil = evilAssertion(doc, l, signed.getAttribute('ID')!);
          evil.insertBefore(firstByLocalName(signed, 'Signature').cloneNode(true), evil.firstChild!.nextSibling);
          const ext = doc.createElementNS(SAMLP, 'samlp:Extensions');
          response.replaceChild(evil, signed);
          ext.appendChild(signed);
          response.insertBefore(ext, firstByLocalName(doc, 'Status'));
        }),
      ),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'wrapping: signed response moved into the Extensions of an evil response',
    build: (l) => {
      const signedResponse = signResponse(responseXml(base(l)), idp);
      const evil = responseXml(base(l, { nameId: 'opaque-mallory-victim' }));
      return b64(
        withDom(evil, (doc) => {
          const inner = new DOMParser().parseFromString(signedResponse, 'text/xml').documentElement!;
          const ext = doc.createElementNS(SAMLP, 'samlp:Extensions');
          ext.appendChild(doc.importNode(inner, true));
          doc.documentElement!.insertBefore(ext, firstByLocalName(doc, 'Status'));
          doc.documentElement!.setAttribute('ID', inner.getAttribute('ID')!);
        }),
      );
    },
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'comment injection in the NameID',
    build: (l) => {
      const signed = signAssertion(responseXml(base(l, { nameId: 'alice@example.org.evil.example' })), idp);
      return b64(signed.replace('alice@example.org.evil.example', 'alice@example.org<!---->.evil.example'));
    },
    kind: 'malformed',
    says: /XML comments inside the assertion/,
  },
  {
    name: 'expired assertion',
    build: (l) => goodB64(l, { issuedAt: Date.now() - 2 * 3600_000, lifetimeMs: 5 * 60_000 }),
    kind: 'expired',
    says: /assertion has expired/,
  },
  {
    name: 'assertion not yet valid',
    build: (l) => goodB64(l, { issuedAt: Date.now() + 3600_000, notBefore: Date.now() + 3600_000 }),
    kind: 'not_yet_valid',
    says: /not valid yet/,
  },
  {
    name: 'wrong audience',
    build: (l) => goodB64(l, { audience: 'https://other-sp.example.org/metadata' }),
    kind: 'audience_mismatch',
    says: /issued for another service/,
  },
  {
    name: 'wrong recipient',
    build: (l) => goodB64(l, { recipient: 'https://other-sp.example.org/acs' }),
    kind: 'recipient_mismatch',
    says: /sent to another address/,
  },
  {
    name: 'wrong destination',
    build: (l) => goodB64(l, { destination: 'https://other-sp.example.org/acs' }),
    kind: 'recipient_mismatch',
    says: /sent to another address/,
  },
  {
    name: 'issuer is another IdP (signed with the trusted key)',
    build: (l) => goodB64(l, { issuer: 'https://evil-idp.example.org/' }),
    kind: 'issuer_mismatch',
    says: /another identity provider/,
  },
  {
    name: 'InResponseTo of another login',
    build: (l) => goodB64(l, { inResponseTo: l.otherRequestId }),
    kind: 'state_mismatch',
    says: /does not answer this sign-in/,
  },
  {
    name: 'unsolicited response (no InResponseTo) while IdP-initiated sign-in is off',
    build: (l) => goodB64(l, { inResponseTo: null }),
    kind: 'unsolicited',
    says: /does not answer this sign-in/,
  },
  {
    name: 'RSA-SHA1 signature (refused unless allow_sha1)',
    build: (l) => b64(signAssertion(responseXml(base(l)), idp, { sha1: true })),
    kind: 'signature_invalid',
    says: /signature on this response is missing or not valid/,
  },
  {
    name: 'DOCTYPE with an external entity (XXE)',
    build: () => b64(fixtureText('xxe.xml')),
    kind: 'malformed',
    says: /document type declaration/,
  },
  {
    name: 'DOCTYPE with nested entities (billion laughs)',
    build: () => b64(fixtureText('billion-laughs.xml')),
    kind: 'malformed',
    says: /document type declaration/,
  },
  {
    name: 'invalid base64',
    build: () => 'PHNhbWxwOlJlc3BvbnNl!!!not*base64',
    kind: 'malformed',
    says: /not valid base64/,
  },
  {
    name: 'not XML at all',
    build: () => b64('this is not <xml'),
    kind: 'malformed',
    says: /not well-formed XML/,
  },
  {
    name: 'transient NameID used as the subject',
    build: (l) => goodB64(l, { nameIdFormat: NAMEID_TRANSIENT, nameId: '_transient123' }),
    kind: 'config',
    says: /one-time identifier/,
  },
];

function goodB64(l: LoginUnderAttack, extra: Partial<ResponseOptions>) {
  return b64(goodResponse(l, extra));
}
