// A synthetic SAML metadata aggregate shaped like eduGAIN / InCommon / DFN-AAI: one signed
// md:EntitiesDescriptor holding thousands of IdP EntityDescriptors, each with the extensions
// those federations publish (mdrpi:RegistrationInfo, mdattr:EntityAttributes with entity
// categories, shibmd:Scope, mdui:UIInfo in several languages, mdui:DiscoHints, several
// KeyDescriptors, Organization, ContactPersons). Used by the federation benchmark and tests;
// generated on the fly, never committed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';

export const NS_DECLS =
  'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ' +
  'xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui" xmlns:mdrpi="urn:oasis:names:tc:SAML:metadata:rpi" ' +
  'xmlns:mdattr="urn:oasis:names:tc:SAML:metadata:attribute" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ' +
  'xmlns:shibmd="urn:mace:shibboleth:metadata:1.0"';

const ALL_LANGS = ['en', 'de', 'fr', 'it', 'es'];
const WORDS = [
  'Technical',
  'University',
  'Applied',
  'Sciences',
  'Institute',
  'College',
  'Academy',
  'Research',
  'Medical',
  'Arts',
  'Northern',
  'Southern',
  'Eastern',
  'Western',
  'Central',
  'Royal',
  'National',
  'Polytechnic',
];
const CITIES = [
  'Aachen',
  'Bologna',
  'Coimbra',
  'Delft',
  'Edinburgh',
  'Freiburg',
  'Gent',
  'Helsinki',
  'Innsbruck',
  'Jena',
  'Krakow',
  'Leuven',
  'Madrid',
  'Nijmegen',
  'Oslo',
  'Padua',
  'Quebec',
  'Riga',
  'Salamanca',
  'Tartu',
  'Uppsala',
  'Vienna',
  'Warsaw',
  'York',
  'Zurich',
];

/** Deterministic name parts of synthetic IdP number `i`. */
export function syntheticName(i) {
  const h = createHash('sha256').update(String(i)).digest();
  const city = CITIES[h[0] % CITIES.length];
  const w1 = WORDS[h[1] % WORDS.length];
  const w2 = WORDS[h[2] % WORDS.length];
  return { name: `${w1} ${w2} ${city} ${i}`, domain: `idp${i}.${city.toLowerCase()}.example.edu` };
}

const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** @param {string} certPem @returns {string} the base64 DER body */
export const certBody = (certPem) => certPem.replace(/-----[A-Z ]+-----|\s+/g, '');

/**
 * One synthetic IdP EntityDescriptor (about 9-10 KB, like a well-described eduGAIN IdP).
 * `compact` leaves out the contacts, descriptions and all but one language (about 3 KB).
 * @param {number} i
 * @param {{ certs: string[], registrationAuthority?: string, compact?: boolean }} o certs: base64 DER bodies, all but the last for signing
 */
export function syntheticIdp(i, o) {
  const { name, domain } = syntheticName(i);
  const LANGS = o.compact ? ['en'] : ALL_LANGS;
  const entityId = `https://${domain}/idp/shibboleth`;
  const ra = o.registrationAuthority ?? `http://www.federation${i % 7}.example.org/`;
  const keys = o.certs
    .map(
      (c, k) =>
        `<md:KeyDescriptor${k === o.certs.length - 1 ? ' use="encryption"' : ' use="signing"'}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  const ui =
    LANGS.map((l) => `<mdui:DisplayName xml:lang="${l}">${xmlEscape(name)} (${l})</mdui:DisplayName>`).join('') +
    (o.compact ? [] : LANGS)
      .map((l) => `<mdui:Description xml:lang="${l}">Identity provider of ${xmlEscape(name)} for staff, students and guests; language ${l}. Single sign-on for teaching, research and library services.</mdui:Description>`)
      .join('') +
    `<mdui:InformationURL xml:lang="en">https://www.${domain}/about</mdui:InformationURL><mdui:PrivacyStatementURL xml:lang="en">https://www.${domain}/privacy</mdui:PrivacyStatementURL>` +
    `<mdui:Logo height="16" width="16">https://www.${domain}/favicon.png</mdui:Logo><mdui:Logo height="60" width="200" xml:lang="en">https://www.${domain}/logo.png</mdui:Logo>`;
  const sso = ['HTTP-Redirect', 'HTTP-POST', 'HTTP-POST-SimpleSign']
    .map((b) => `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${b}" Location="https://${domain}/idp/profile/SAML2/${b.replace('HTTP-', '')}/SSO"/>`)
    .join('');
  const slo = ['HTTP-Redirect', 'HTTP-POST']
    .map((b) => `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${b}" Location="https://${domain}/idp/profile/SAML2/${b.replace('HTTP-', '')}/SLO"/>`)
    .join('');
  const contacts = (o.compact ? [] : ['technical', 'support', 'administrative'])
    .map(
      (t) =>
        `<md:ContactPerson contactType="${t}"><md:GivenName>${t} team</md:GivenName><md:SurName>${xmlEscape(name)}</md:SurName><md:EmailAddress>mailto:${t}@${domain}</md:EmailAddress><md:TelephoneNumber>+49 000 ${String(i).padStart(6, '0')}</md:TelephoneNumber></md:ContactPerson>`,
    )
    .join('');
  return (
    `<md:EntityDescriptor entityID="${entityId}">` +
    `<md:Extensions><mdrpi:RegistrationInfo registrationAuthority="${ra}" registrationInstant="2019-04-01T00:00:00Z"><mdrpi:RegistrationPolicy xml:lang="en">${ra}policy</mdrpi:RegistrationPolicy></mdrpi:RegistrationInfo>` +
    `<mdattr:EntityAttributes><saml:Attribute Name="http://macedir.org/entity-category-support" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"><saml:AttributeValue>http://refeds.org/category/research-and-scholarship</saml:AttributeValue></saml:Attribute>` +
    `<saml:Attribute Name="urn:oasis:names:tc:SAML:attribute:assurance-certification" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"><saml:AttributeValue>https://refeds.org/sirtfi</saml:AttributeValue></saml:Attribute></mdattr:EntityAttributes></md:Extensions>` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol urn:oasis:names:tc:SAML:1.1:protocol urn:mace:shibboleth:1.0">` +
    `<md:Extensions><shibmd:Scope regexp="false">${domain.split('.').slice(1).join('.')}</shibmd:Scope><mdui:UIInfo>${ui}</mdui:UIInfo><mdui:DiscoHints><mdui:DomainHint>${domain.split('.').slice(1).join('.')}</mdui:DomainHint><mdui:IPHint>192.0.2.0/24</mdui:IPHint></mdui:DiscoHints></md:Extensions>` +
    keys +
    `<md:ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://${domain}:8443/idp/profile/SAML2/SOAP/ArtifactResolution" index="1"/>` +
    slo +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>` +
    sso +
    `</md:IDPSSODescriptor>` +
    `<md:Organization><md:OrganizationName xml:lang="en">${xmlEscape(name)}</md:OrganizationName><md:OrganizationDisplayName xml:lang="en">${xmlEscape(name)}</md:OrganizationDisplayName><md:OrganizationURL xml:lang="en">https://www.${domain}/</md:OrganizationURL></md:Organization>` +
    contacts +
    `</md:EntityDescriptor>`
  );
}

/**
 * An EntitiesDescriptor around `entities` (EntityDescriptor strings without namespace
 * declarations of their own beyond what NS_DECLS gives), signed (enveloped, exc-c14n, RSA-SHA256)
 * by `signer` when given.
 * by `signer` when given: with xmlsec1 (`tool: 'xmlsec1'`, as federation operators sign, and fast
 * for tens of megabytes) or with xml-crypto (the default; slow beyond a few megabytes).
 * @param {{ entities: string[], signer?: { key: string, cert: string }, tool?: 'xml-crypto' | 'xmlsec1', validUntil?: number, name?: string, id?: string }} o
 */
export function aggregateXml(o) {
  const id = o.id ?? '_aggregate';
  const validUntil = o.validUntil ? ` validUntil="${new Date(o.validUntil).toISOString().replace(/\.\d+Z$/, 'Z')}"` : '';
  const open = `<md:EntitiesDescriptor ${NS_DECLS} ID="${id}" Name="${o.name ?? 'urn:mace:example.org:test-federation'}"${validUntil}>`;
  const body = `${o.entities.join('\n')}</md:EntitiesDescriptor>`;
  if (!o.signer) return open + body;
  if (o.tool === 'xmlsec1') return signWithXmlsec1(open + SIGNATURE_TEMPLATE(id) + body, o.signer);
  return signAggregate(open + body, id, o.signer);
}

const SIGNATURE_TEMPLATE = (id) =>
  '<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>' +
  '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' +
  `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
  '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>' +
  '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>' +
  '<ds:SignatureValue></ds:SignatureValue></ds:Signature>';

/** Signs a document holding SIGNATURE_TEMPLATE with xmlsec1 (Debian package `xmlsec1`). */
export function signWithXmlsec1(xml, signer) {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-fed-sign-'));
  try {
    writeFileSync(join(dir, 'in.xml'), xml);
    writeFileSync(join(dir, 'key.pem'), signer.key);
    execFileSync('xmlsec1', ['--sign', '--privkey-pem', join(dir, 'key.pem'), '--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor', '--output', join(dir, 'out.xml'), join(dir, 'in.xml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 1 << 20,
    });
    return readFileSync(join(dir, 'out.xml'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Enveloped signature over the whole aggregate, placed first as SAML metadata wants it. */
export function signAggregate(xml, id, signer) {
  const sig = new SignedXml({
    privateKey: signer.key,
    publicCert: signer.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: `/*[@ID='${id}']`,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { location: { reference: `/*[@ID='${id}']`, action: 'prepend' } });
  return sig.getSignedXml();
}
