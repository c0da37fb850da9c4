import { SignedXml } from 'xml-crypto';
import type { Element } from '@xmldom/xmldom';
import { NS, SamlInputError, attr, children, descendants, parseXml, text } from './saml-xml.js';
import { parseCertificate } from './saml-certs.js';

export const BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';

export interface Endpoint {
  location: string;
  responseLocation?: string;
}

/** What Causeway needs to know about an IdP, from its metadata or from the YAML. JSON-serialisable. */
export interface IdpDescriptor {
  entityId: string;
  sso: { redirect?: string; post?: string };
  slo: { redirect?: Endpoint; post?: Endpoint };
  /** PEM certificates whose keys may sign responses and logout messages (several during a rollover). */
  signingCerts: string[];
  /** SHA-256 fingerprints of `signingCerts` (for logs and health details). */
  fingerprints: string[];
  wantAuthnRequestsSigned: boolean;
  /** Metadata `validUntil` (ms), if any. */
  validUntil?: number;
}

export class MetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataError';
  }
}

export interface ParseMetadataOptions {
  /** The entity to use (required when the document lists several IdPs). */
  entityId?: string;
  /** When given, the document must carry a valid enveloped signature by this certificate (PEM). */
  signingCert?: string;
  now: number;
}

/**
 * Parses IdP metadata (an EntityDescriptor, or an EntitiesDescriptor aggregate). When a signing
 * certificate is pinned, only the bytes covered by the verified signature are read.
 */
export function parseIdpMetadata(xml: string, opts: ParseMetadataOptions): IdpDescriptor {
  let doc;
  try {
    doc = parseXml(opts.signingCert ? verifySignedMetadata(xml, opts.signingCert) : xml);
  } catch (e) {
    if (e instanceof MetadataError) throw e;
    throw new MetadataError(e instanceof SamlInputError ? e.message.replace('SAML message', 'metadata') : 'the metadata is not well-formed XML');
  }
  const root = doc.documentElement!;
  if (root.namespaceURI !== NS.md || (root.localName !== 'EntityDescriptor' && root.localName !== 'EntitiesDescriptor')) {
    throw new MetadataError('not SAML metadata (expected md:EntityDescriptor or md:EntitiesDescriptor)');
  }
  checkValidUntil(root, opts.now);

  const candidates = (root.localName === 'EntityDescriptor' ? [root] : descendants(root, NS.md, 'EntityDescriptor')).filter((e) =>
    children(e, NS.md, 'IDPSSODescriptor').some((d) => (attr(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL)),
  );
  let entity: Element | undefined;
  if (opts.entityId) {
    entity = candidates.find((e) => attr(e, 'entityID') === opts.entityId);
    if (!entity) throw new MetadataError(`no SAML 2.0 IdP with entityID "${opts.entityId}" in the metadata`);
  } else {
    if (candidates.length === 0) throw new MetadataError('the metadata describes no SAML 2.0 IdP');
    if (candidates.length > 1) throw new MetadataError(`the metadata lists ${candidates.length} IdPs; set idp_entity_id`);
    entity = candidates[0]!;
  }
  if (entity !== root) checkValidUntil(entity, opts.now);
  const entityId = attr(entity, 'entityID');
  if (!entityId) throw new MetadataError('EntityDescriptor has no entityID');
  const idp = children(entity, NS.md, 'IDPSSODescriptor').find((d) => (attr(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL))!;
  checkValidUntil(idp, opts.now);

  const certs: string[] = [];
  const fingerprints: string[] = [];
  for (const kd of children(idp, NS.md, 'KeyDescriptor')) {
    const use = attr(kd, 'use');
    if (use && use !== 'signing') continue;
    for (const x509 of descendants(kd, NS.ds, 'X509Certificate')) {
      const value = text(x509);
      if (!value) continue;
      let parsed;
      try {
        parsed = parseCertificate(value);
      } catch {
        throw new MetadataError('a signing KeyDescriptor holds an invalid X.509 certificate');
      }
      if (!fingerprints.includes(parsed.fingerprint256)) {
        certs.push(parsed.pem);
        fingerprints.push(parsed.fingerprint256);
      }
    }
  }
  if (certs.length === 0) throw new MetadataError('the IdP metadata has no signing certificate');

  const endpoint = (local: string, binding: string): Endpoint | undefined => {
    const e = children(idp, NS.md, local).find((s) => attr(s, 'Binding') === binding);
    const location = attr(e, 'Location');
    if (!e || !location) return undefined;
    assertHttpUrl(location, local);
    const responseLocation = attr(e, 'ResponseLocation');
    if (responseLocation) assertHttpUrl(responseLocation, local);
    return { location, ...(responseLocation ? { responseLocation } : {}) };
  };
  const sso = { redirect: endpoint('SingleSignOnService', BINDING.redirect)?.location, post: endpoint('SingleSignOnService', BINDING.post)?.location };
  if (!sso.redirect && !sso.post) throw new MetadataError('the IdP metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding');
  const slo = { redirect: endpoint('SingleLogoutService', BINDING.redirect), post: endpoint('SingleLogoutService', BINDING.post) };

  const validUntil = [root, entity, idp].map((e) => parseTime(attr(e, 'validUntil'))).filter((t): t is number => t !== undefined);
  return {
    entityId,
    sso: dropUndefined(sso),
    slo: dropUndefined(slo),
    signingCerts: certs,
    fingerprints,
    wantAuthnRequestsSigned: attr(idp, 'WantAuthnRequestsSigned') === 'true' || attr(idp, 'WantAuthnRequestsSigned') === '1',
    ...(validUntil.length ? { validUntil: Math.min(...validUntil) } : {}),
  };
}

/** The IdP declared inline in the YAML. */
export function inlineIdp(idp: { entity_id: string; sso_url: string; sso_binding: 'redirect' | 'post'; slo_url?: string; slo_response_url?: string; certs: string[] }): IdpDescriptor {
  const parsed = idp.certs.map((c) => parseCertificate(c));
  return {
    entityId: idp.entity_id,
    sso: { [idp.sso_binding]: idp.sso_url },
    slo: idp.slo_url ? { redirect: { location: idp.slo_url, ...(idp.slo_response_url ? { responseLocation: idp.slo_response_url } : {}) } } : {},
    signingCerts: parsed.map((p) => p.pem),
    fingerprints: parsed.map((p) => p.fingerprint256),
    wantAuthnRequestsSigned: false,
  };
}

/**
 * Verifies the enveloped signature on the metadata's root element with the pinned certificate and
 * returns the canonical bytes it covers (nothing outside them is trusted).
 */
export function verifySignedMetadata(xml: string, certPem: string): string {
  const doc = parseXml(xml);
  const root = doc.documentElement!;
  const signatures = children(root, NS.ds, 'Signature');
  if (signatures.length === 0) throw new MetadataError('the metadata is not signed, but metadata_signing_cert requires it');
  if (signatures.length > 1) throw new MetadataError('the metadata carries several signatures');
  const sig = new SignedXml({ publicCert: certPem });
  try {
    sig.loadSignature(signatures[0] as unknown as Parameters<SignedXml['loadSignature']>[0]);
  } catch {
    throw new MetadataError('the metadata signature cannot be read');
  }
  const refs = sig.getReferences();
  if (refs.length !== 1) throw new MetadataError('the metadata signature must have exactly one reference');
  const uri = refs[0]!.uri ?? '';
  const id = root.getAttribute('ID');
  if (uri !== '' && !(id && uri === `#${id}`)) throw new MetadataError('the metadata signature does not cover the whole document');
  if (id) {
    let same = 0;
    for (const el of Array.from(doc.getElementsByTagName('*'))) if (el.getAttribute('ID') === id || el.getAttribute('Id') === id || el.getAttribute('id') === id) same++;
    if (same !== 1) throw new MetadataError('the metadata has duplicated IDs');
  }
  let valid = false;
  try {
    valid = sig.checkSignature(xml);
  } catch {
    valid = false;
  }
  const signed = valid ? sig.getSignedReferences() : [];
  if (!valid || signed.length !== 1) throw new MetadataError('the metadata signature is not valid for metadata_signing_cert');
  return signed[0]!;
}

function checkValidUntil(el: Element, now: number) {
  const t = parseTime(attr(el, 'validUntil'));
  if (t !== undefined && t <= now) throw new MetadataError(`the metadata expired (validUntil ${attr(el, 'validUntil')})`);
}

function parseTime(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new MetadataError(`invalid validUntil "${v}"`);
  return t;
}

function assertHttpUrl(u: string, what: string) {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new MetadataError(`${what} Location is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new MetadataError(`${what} Location is not an http(s) URL`);
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
