import { createHash, timingSafeEqual } from 'node:crypto';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { NS, attr, child, children, parseXml, text } from '../saml-xml.js';
import { MetadataError } from '../idp-metadata.js';
import { ExcC14nWriter } from './exc-c14n-stream.js';

/**
 * Reads a signed SAML metadata aggregate (an md:EntitiesDescriptor of a federation: eduGAIN,
 * InCommon, DFN-AAI) in one streaming pass: the enveloped signature is checked against the
 * federation's certificate while the document is canonicalised and digested on the fly, and the
 * IdPs are collected from the same events; nothing is returned unless the digest matches, so
 * every value in the result is covered by the signature. A DOM of 50 MB would take seconds and
 * hundreds of megabytes (see bench/saml-federation); this keeps memory near the size of the index.
 */

const MDUI = 'urn:oasis:names:tc:SAML:metadata:ui';
const MDRPI = 'urn:oasis:names:tc:SAML:metadata:rpi';
const MDATTR = 'urn:oasis:names:tc:SAML:metadata:attribute';
const SHIBMD = 'urn:mace:shibboleth:metadata:1.0';
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const BINDING_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
/** Digests and signature methods accepted on an aggregate (SHA-1 is refused: eduGAIN and InCommon moved off it long ago). */
const DIGESTS: Record<string, string> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};
const SIGNATURE_METHODS = new Set(['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512']);

export interface FederationLogo {
  url: string;
  width?: number;
  height?: number;
  lang?: string;
}

/** One IdP of the aggregate, as much as sign-in and discovery need. Plain data (crosses a worker boundary). */
export interface FederationEntity {
  entityId: string;
  registrationAuthority?: string;
  /** mdattr:EntityAttributes: attribute Name → values (entity categories, assurance certification, …). */
  entityAttributes: Record<string, string[]>;
  /** mdui:DisplayName by xml:lang ('' when none given). */
  displayNames: Record<string, string>;
  /** md:OrganizationDisplayName (else OrganizationName) by xml:lang. */
  organizationNames: Record<string, string>;
  /** mdui:Logo, https only (never fetched by Causeway: the browser loads them). */
  logos: FederationLogo[];
  /** shibmd:Scope values (plain, not regular expressions). */
  scopes: string[];
  /** mdui:DiscoHints/DomainHint values. */
  domainHints: string[];
  sso: { redirect?: string; post?: string };
  /** Base64 DER bodies of the signing certificates (parsed when the entity is used). */
  signingCerts: string[];
  wantAuthnRequestsSigned: boolean;
  /** The earliest validUntil among the entity, its IDPSSODescriptor and enclosing groups (ms). */
  validUntil?: number;
}

export interface AggregateData {
  /** The aggregate's Name attribute. */
  name?: string;
  /** Root validUntil (ms). */
  validUntil?: number;
  /** Every SAML 2.0 IdP of the aggregate, in document order. */
  entities: FederationEntity[];
  /** EntityDescriptors read (IdPs, SPs, expired ones…). */
  entityDescriptors: number;
  /** IdPs left out: expired, or without a usable SSO endpoint or signing certificate. */
  skipped: number;
}

export interface ReadAggregateOptions {
  /** The federation's metadata signing certificate (PEM). */
  signingCert: string;
  now: number;
  /** Refuse an aggregate without validUntil (a signed aggregate without one could be replayed forever). */
  requireValidUntil: boolean;
}

type CaptureKind = 'attribute' | 'cert' | 'scope' | 'displayName' | 'logo' | 'domainHint' | 'orgDisplayName' | 'orgName';

interface EntityBuilder {
  e: FederationEntity;
  expired: boolean;
  hasIdp: boolean;
  idpDepth: number;
}

/**
 * Parses and verifies the aggregate. `chunks` are successive pieces of its text (so the caller can
 * decode a large buffer a megabyte at a time). Throws MetadataError.
 */
export function readAggregate(chunks: Iterable<string>, opts: ReadAggregateOptions): AggregateData {
  const parser = new SaxesParser({ xmlns: true, position: false });
  let failure: Error | undefined;
  const fail = (m: string): never => {
    throw new MetadataError(m);
  };

  // Canonical output: buffered until the signature has been checked, then digested as it comes.
  let pending: string[] | undefined = [];
  let hash: ReturnType<typeof createHash> | undefined;
  let digestExpected: Buffer | undefined;
  let referenceWholeDocument = false;
  let buffered = '';
  const emit = (s: string) => {
    if (pending) pending.push(s);
    else {
      buffered += s;
      if (buffered.length > 1 << 16) {
        hash!.update(buffered);
        buffered = '';
      }
    }
  };
  const main = new ExcC14nWriter(emit);
  // Processing instructions outside the document element belong to a URI="" reference only.
  const outside: { before: string[]; after: string[] } = { before: [], after: [] };

  let depth = 0;
  let rootSeen = false;
  let rootClosed = false;
  let rootId: string | undefined;
  let name: string | undefined;
  let rootValidUntil: number | undefined;
  let signatureState: 'none' | 'reading' | 'done' = 'none';
  let firstChildSeen = false;
  let sigWriter: ExcC14nWriter | undefined;
  let sigXml = '';
  let sigDepth = 0;

  const entities: FederationEntity[] = [];
  let entityDescriptors = 0;
  let skipped = 0;
  /** validUntil of enclosing EntitiesDescriptors (root included). */
  const groupValidUntil: (number | undefined)[] = [];
  let cur: EntityBuilder | undefined;
  let entityDepth = 0;
  const path: { uri: string; local: string }[] = [];
  /** Text being collected for the element `captureTag` (a value the index keeps). */
  let capture: string | undefined;
  let captureTag: SaxesTagNS | undefined;
  let captureKind: CaptureKind | undefined;
  let attributeName: string | undefined;
  let signingKey = false;

  const time = (v: string | undefined): number | undefined => {
    if (!v) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t)) fail(`invalid validUntil "${v}"`);
    return t;
  };
  const a = (tag: SaxesTagNS, n: string): string | undefined => {
    const v = tag.attributes[n];
    return v && typeof v === 'object' && v.value !== '' ? v.value : undefined;
  };
  const minTime = (...ts: (number | undefined)[]) => {
    const d = ts.filter((t): t is number => t !== undefined);
    return d.length ? Math.min(...d) : undefined;
  };

  parser.on('doctype', () => fail('the metadata carries a DTD (refused)'));
  parser.on('processinginstruction', (pi) => {
    if (sigWriter) return sigWriter.pi(pi.target ?? '', pi.body, 'inside');
    if (!rootSeen) outside.before.push(`<?${pi.target}${pi.body ? ` ${pi.body}` : ''}?>\n`);
    else if (rootClosed) outside.after.push(`\n<?${pi.target}${pi.body ? ` ${pi.body}` : ''}?>`);
    else main.pi(pi.target ?? '', pi.body, 'inside');
  });
  const onText = (t: string) => {
    if (sigWriter) return sigWriter.text(t);
    if (depth === 0) return;
    main.text(t);
    if (capture !== undefined) capture += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('opentag', (tag) => {
    depth++;
    if (depth === 1) {
      rootSeen = true;
      if (tag.uri !== NS.md || tag.local !== 'EntitiesDescriptor') fail('not a metadata aggregate (expected md:EntitiesDescriptor)');
      rootId = a(tag, 'ID');
      name = a(tag, 'Name');
      rootValidUntil = time(a(tag, 'validUntil'));
      groupValidUntil.push(rootValidUntil);
    } else if (rootId && (a(tag, 'ID') === rootId || a(tag, 'Id') === rootId || a(tag, 'id') === rootId)) {
      fail('the metadata has duplicated IDs');
    }

    // The enveloped signature: the first child of the root (where the schema puts it), left out of the digest.
    if (depth === 2 && !firstChildSeen) {
      firstChildSeen = true;
      if (tag.uri === NS.ds && tag.local === 'Signature') {
        signatureState = 'reading';
        sigDepth = depth;
        sigWriter = new ExcC14nWriter((s) => (sigXml += s));
      }
    }
    if (sigWriter) {
      sigWriter.open(tag);
      return;
    }
    if (depth === 2 && signatureState !== 'done') fail('the metadata is not signed (the federation signing certificate requires it)');
    main.open(tag);
    path.push({ uri: tag.uri, local: tag.local });
    onEntityOpen(tag);
  });

  parser.on('closetag', (tag) => {
    if (sigWriter) {
      sigWriter.close();
      if (depth === sigDepth) {
        sigWriter = undefined;
        signatureState = 'done';
        startDigest(verifySignedInfo(sigXml, opts.signingCert, rootId));
      }
      depth--;
      return;
    }
    onEntityClose(tag);
    path.pop();
    main.close();
    depth--;
    if (depth === 0) rootClosed = true;
  });

  function startDigest(ref: { uri: string; digest: string; digestValue: Buffer }) {
    referenceWholeDocument = ref.uri === '';
    hash = createHash(ref.digest);
    digestExpected = ref.digestValue;
    if (referenceWholeDocument) for (const p of outside.before) hash.update(p);
    for (const p of pending!) hash.update(p);
    pending = undefined;
  }

  function onEntityOpen(tag: SaxesTagNS) {
    const d = path.length;
    if (tag.uri === NS.md && tag.local === 'EntitiesDescriptor' && d > 1) {
      groupValidUntil.push(time(a(tag, 'validUntil')));
      return;
    }
    if (tag.uri === NS.md && tag.local === 'EntityDescriptor' && !cur) {
      entityDescriptors++;
      const validUntil = minTime(time(a(tag, 'validUntil')), ...groupValidUntil);
      cur = {
        e: {
          entityId: a(tag, 'entityID') ?? '',
          entityAttributes: {},
          displayNames: {},
          organizationNames: {},
          logos: [],
          scopes: [],
          domainHints: [],
          sso: {},
          signingCerts: [],
          wantAuthnRequestsSigned: false,
          ...(validUntil !== undefined ? { validUntil } : {}),
        },
        expired: validUntil !== undefined && validUntil <= opts.now,
        hasIdp: false,
        idpDepth: 0,
      };
      entityDepth = d;
      return;
    }
    if (!cur) return;
    const rel = d - entityDepth;
    const parent = path[d - 2]!;
    const e = cur.e;
    const start = (kind: CaptureKind) => {
      capture = '';
      captureKind = kind;
      captureTag = tag;
    };
    if (rel === 1 && tag.uri === NS.md && tag.local === 'IDPSSODescriptor') {
      const protocols = (a(tag, 'protocolSupportEnumeration') ?? '').split(/\s+/);
      if (!cur.hasIdp && protocols.includes(SAML2_PROTOCOL)) {
        cur.hasIdp = true;
        cur.idpDepth = d;
        const w = a(tag, 'WantAuthnRequestsSigned');
        e.wantAuthnRequestsSigned = w === 'true' || w === '1';
        const v = time(a(tag, 'validUntil'));
        if (v !== undefined) {
          e.validUntil = minTime(e.validUntil, v);
          if (v <= opts.now) cur.expired = true;
        }
      }
      return;
    }
    // Entity-level extensions: registration authority, entity attributes (categories).
    if (rel === 2 && parent.uri === NS.md && parent.local === 'Extensions' && tag.uri === MDRPI && tag.local === 'RegistrationInfo') {
      const ra = a(tag, 'registrationAuthority');
      if (ra) e.registrationAuthority = ra;
    } else if (rel === 3 && parent.uri === MDATTR && parent.local === 'EntityAttributes' && tag.uri === NS.saml && tag.local === 'Attribute') {
      attributeName = a(tag, 'Name');
      if (attributeName) e.entityAttributes[attributeName] ??= [];
    } else if (rel === 4 && attributeName && tag.uri === NS.saml && tag.local === 'AttributeValue') {
      start('attribute');
    } else if (rel === 2 && parent.local === 'Organization' && tag.uri === NS.md && (tag.local === 'OrganizationDisplayName' || tag.local === 'OrganizationName')) {
      start(tag.local === 'OrganizationDisplayName' ? 'orgDisplayName' : 'orgName');
    }
    if (!(cur.idpDepth > 0 && d > cur.idpDepth)) return;
    // Inside the (first SAML 2.0) IDPSSODescriptor.
    const level = d - cur.idpDepth;
    if (level === 1 && tag.uri === NS.md && tag.local === 'SingleSignOnService') {
      const binding = a(tag, 'Binding');
      const location = a(tag, 'Location');
      if (location && isHttpUrl(location)) {
        if (binding === BINDING_REDIRECT) e.sso.redirect ??= location;
        if (binding === BINDING_POST) e.sso.post ??= location;
      }
    } else if (level === 1 && tag.uri === NS.md && tag.local === 'KeyDescriptor') {
      const use = a(tag, 'use');
      signingKey = !use || use === 'signing';
    } else if (signingKey && tag.uri === NS.ds && tag.local === 'X509Certificate') {
      start('cert');
    } else if (level === 2 && parent.local === 'Extensions' && tag.uri === SHIBMD && tag.local === 'Scope' && a(tag, 'regexp') !== 'true') {
      start('scope');
    } else if (level === 3 && parent.uri === MDUI && parent.local === 'UIInfo' && tag.uri === MDUI && (tag.local === 'DisplayName' || tag.local === 'Logo')) {
      start(tag.local === 'DisplayName' ? 'displayName' : 'logo');
    } else if (level === 3 && parent.uri === MDUI && parent.local === 'DiscoHints' && tag.uri === MDUI && tag.local === 'DomainHint') {
      start('domainHint');
    }
  }

  function onEntityClose(tag: SaxesTagNS) {
    const d = path.length;
    if (tag.uri === NS.md && tag.local === 'EntitiesDescriptor' && d > 1) {
      groupValidUntil.pop();
      return;
    }
    if (!cur) return;
    const e = cur.e;
    if (d === entityDepth) {
      if (cur.hasIdp) {
        if (!e.entityId || cur.expired || e.signingCerts.length === 0 || (!e.sso.redirect && !e.sso.post)) skipped++;
        else entities.push(e);
      }
      cur = undefined;
      return;
    }
    if (d === cur.idpDepth) cur.idpDepth = -1; // read; a second IDPSSODescriptor is ignored
    if (tag.uri === NS.saml && tag.local === 'Attribute') attributeName = undefined;
    if (tag.uri === NS.md && tag.local === 'KeyDescriptor') signingKey = false;
    if (captureTag !== tag || capture === undefined) return;
    const value = capture.trim();
    const kind = captureKind;
    capture = undefined;
    captureTag = undefined;
    if (!value) return;
    const lang = a(tag, 'xml:lang') ?? '';
    switch (kind) {
      case 'attribute':
        e.entityAttributes[attributeName!]!.push(value);
        break;
      case 'cert': {
        const body = value.replace(/\s+/g, '');
        if (/^[A-Za-z0-9+/]+={0,2}$/.test(body) && !e.signingCerts.includes(body)) e.signingCerts.push(body);
        break;
      }
      case 'scope':
        e.scopes.push(value.toLowerCase());
        break;
      case 'displayName':
        e.displayNames[lang] ??= value;
        break;
      case 'logo': {
        // Logos by https URL only: a data: URI would bloat the index, http would be mixed content.
        if (/^https:\/\/[^\s"'<>]+$/i.test(value) && value.length <= 2048) {
          const w = Number(a(tag, 'width'));
          const h = Number(a(tag, 'height'));
          e.logos.push({ url: value, ...(w > 0 ? { width: w } : {}), ...(h > 0 ? { height: h } : {}), ...(lang ? { lang } : {}) });
        }
        break;
      }
      case 'domainHint':
        e.domainHints.push(value.toLowerCase());
        break;
      case 'orgDisplayName':
        e.organizationNames[lang] = value;
        break;
      case 'orgName':
        e.organizationNames[lang] ??= value;
        break;
      case undefined:
        break;
    }
  }

  parser.on('error', (e) => {
    failure ??= e;
  });

  try {
    for (const chunk of chunks) {
      parser.write(chunk);
      if (failure) break;
    }
    if (!failure) parser.close();
  } catch (e) {
    if (e instanceof MetadataError) throw e;
    failure ??= e as Error;
  }
  if (failure) {
    if (failure instanceof MetadataError) throw failure;
    throw new MetadataError('the metadata is not well-formed XML');
  }
  if (!rootSeen || !rootClosed) fail('the metadata is not well-formed XML');
  if ((signatureState as string) !== 'done' || !hash || !digestExpected) fail('the metadata is not signed (the federation signing certificate requires it)');
  if (buffered) hash!.update(buffered);
  if (referenceWholeDocument) for (const p of outside.after) hash!.update(p);
  const digest = hash!.digest();
  if (digest.length !== digestExpected!.length || !timingSafeEqual(digest, digestExpected!)) fail('the metadata signature is not valid for the federation signing certificate (digest mismatch: the document was changed)');

  // Checked after the signature: only now are these values the federation's.
  if (rootValidUntil === undefined && opts.requireValidUntil) fail('the aggregate has no validUntil (refused: it could be replayed forever)');
  if (rootValidUntil !== undefined && rootValidUntil <= opts.now) fail(`the metadata expired (validUntil ${new Date(rootValidUntil).toISOString()})`);
  return { ...(name ? { name } : {}), ...(rootValidUntil !== undefined ? { validUntil: rootValidUntil } : {}), entities, entityDescriptors, skipped };
}

/**
 * Checks the SignedInfo of the aggregate's enveloped signature (given as its exclusive canonical
 * form, a standalone document) with xml-crypto's canonicalisation and RSA verification, and
 * returns its one reference. Only a reference to the whole document or to the root's ID, with
 * exactly the enveloped-signature and exc-c14n transforms, is accepted.
 */
export function verifySignedInfo(signatureXml: string, certPem: string, rootId: string | undefined): { uri: string; digest: string; digestValue: Buffer } {
  let sig;
  try {
    sig = parseXml(signatureXml).documentElement!;
  } catch {
    throw new MetadataError('the metadata signature cannot be read');
  }
  const signedInfo = child(sig, NS.ds, 'SignedInfo');
  const signatureValue = text(child(sig, NS.ds, 'SignatureValue'))?.replace(/\s+/g, '');
  if (!signedInfo || !signatureValue) throw new MetadataError('the metadata signature cannot be read');
  if (attr(child(signedInfo, NS.ds, 'CanonicalizationMethod'), 'Algorithm') !== EXC_C14N) throw new MetadataError('the metadata signature uses an unsupported canonicalisation');
  const method = attr(child(signedInfo, NS.ds, 'SignatureMethod'), 'Algorithm') ?? '';
  if (!SIGNATURE_METHODS.has(method)) throw new MetadataError(`the metadata signature method is not accepted (${method})`);
  if (child(child(signedInfo, NS.ds, 'CanonicalizationMethod')!, 'http://www.w3.org/2001/10/xml-exc-c14n#', 'InclusiveNamespaces')) {
    throw new MetadataError('the metadata signature uses an InclusiveNamespaces prefix list (not supported)');
  }
  const canon = new ExclusiveCanonicalization().process(signedInfo as unknown as Parameters<ExclusiveCanonicalization['process']>[0], {});
  const Algorithm = new SignedXml().SignatureAlgorithms[method as keyof SignedXml['SignatureAlgorithms']];
  let valid = false;
  try {
    valid = !!Algorithm && new Algorithm().verifySignature(canon, certPem, signatureValue);
  } catch {
    valid = false;
  }
  if (!valid) throw new MetadataError('the metadata signature is not valid for the federation signing certificate');

  // From here on SignedInfo is the federation's.
  const refs = children(signedInfo, NS.ds, 'Reference');
  if (refs.length !== 1) throw new MetadataError('the metadata signature must have exactly one reference');
  const ref = refs[0]!;
  const uri = ref.getAttribute('URI') ?? '';
  if (uri !== '' && !(rootId && uri === `#${rootId}`)) throw new MetadataError('the metadata signature does not cover the whole document');
  const transforms = children(child(ref, NS.ds, 'Transforms') ?? ref, NS.ds, 'Transform');
  const algs = transforms.map((t) => attr(t, 'Algorithm'));
  if (algs.length !== 2 || algs[0] !== ENVELOPED || algs[1] !== EXC_C14N || transforms.some((t) => t.firstChild && t.getElementsByTagNameNS('*', '*').length)) {
    throw new MetadataError('the metadata signature must use exactly the enveloped-signature and exclusive c14n transforms');
  }
  const digest = DIGESTS[attr(child(ref, NS.ds, 'DigestMethod'), 'Algorithm') ?? ''];
  if (!digest) throw new MetadataError('the metadata signature digest is not accepted');
  const digestValue = Buffer.from(text(child(ref, NS.ds, 'DigestValue')) ?? '', 'base64');
  if (!digestValue.length) throw new MetadataError('the metadata signature cannot be read');
  return { uri, digest, digestValue };
}

function isHttpUrl(u: string): boolean {
  try {
    const p = new URL(u).protocol;
    return p === 'https:' || p === 'http:';
  } catch {
    return false;
  }
}

/** Successive pieces of a UTF-8 buffer, decoded a slice at a time (no 100 MB string of the whole document). */
export function* decodeChunks(buf: Uint8Array, size = 1 << 20): Generator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < buf.length; i += size) yield decoder.decode(buf.subarray(i, Math.min(buf.length, i + size)), { stream: i + size < buf.length });
  if (buf.length === 0) yield '';
}

/** SHA-256 of a buffer, hex (to log which aggregate was loaded). */
export function sha256Hex(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}
