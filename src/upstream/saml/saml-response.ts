import { SAML, SamlStatusError, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import type { Document, Element } from '@xmldom/xmldom';
import { UpstreamError } from '../connector.js';
import { msg } from '../../web/i18n/message.js';
import type { IdpDescriptor } from './idp-metadata.js';
import { hasEncryptedId, readAttributes, readNameId, type NameId, type SamlAttribute } from './saml-attributes.js';
import { statusError } from './saml-status.js';
import { NS, SamlInputError, attr, child, children, decodeBase64Strict, descendants, hasCommentOrPi, parseXml, text, xmlText } from './saml-xml.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

export type SignaturePolicy = 'assertion' | 'response' | 'either' | 'both';

export interface ResponseCheck {
  idp: IdpDescriptor;
  spEntityId: string;
  acsUrl: string;
  /** SP private key (PEM), to decrypt encrypted assertions. */
  spKey: string;
  signature: SignaturePolicy;
  encryptedAssertions: 'optional' | 'required' | 'off';
  clockSkewSeconds: number;
  maxAssertionAgeSeconds?: number;
  maxMessageSize: number;
  allowSha1: boolean;
  /** ID of the AuthnRequest this response must answer; undefined for an unsolicited (IdP-initiated) response. */
  requestId?: string;
  /** When that AuthnRequest was issued (ISO instant). */
  requestIssuedAt?: string;
  now: number;
}

export interface VerifiedAssertion {
  assertionId: string;
  issuer: string;
  nameId?: NameId;
  sessionIndex?: string;
  attributes: SamlAttribute[];
  /** Until when the assertion could be presented (ms): how long its ID stays in the replay cache. */
  usableUntil: number;
  encrypted: boolean;
}

const SIGNATURE_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512']);
const DIGEST_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmldsig-more#sha384', 'http://www.w3.org/2001/04/xmlenc#sha512']);
const SHA1_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1_DIGEST = 'http://www.w3.org/2000/09/xmldsig#sha1';

const MSG = {
  signature: msg('upstream.saml.signature'),
  malformed: msg('upstream.saml.malformed'),
  notAnswer: msg('upstream.saml.not_answer'),
  expired: msg('upstream.saml.expired'),
  notYetValid: msg('upstream.saml.not_yet_valid'),
  audience: msg('upstream.saml.audience'),
  recipient: msg('upstream.saml.recipient'),
  issuer: msg('upstream.saml.issuer'),
};

/** node-saml's InResponseTo store, holding the one request this login sent. */
class OneRequestCache implements CacheProvider {
  constructor(
    private id: string | undefined,
    private readonly instant: string,
  ) {}
  async saveAsync() {
    return null;
  }
  async getAsync(key: string) {
    return this.id !== undefined && key === this.id ? this.instant : null;
  }
  async removeAsync(key: string | null) {
    if (key === this.id) this.id = undefined;
    return key;
  }
}

/**
 * Verifies a SAMLResponse posted to the ACS and returns the assertion it vouches for. node-saml
 * checks the XML signatures (only signed bytes are read afterwards), audience, conditions and
 * decryption; the checks it leaves out (issuer, destination, recipient, bearer confirmation,
 * InResponseTo on both levels, algorithms, comments, session expiry) are made here.
 * Throws UpstreamError with a user-safe message; the technical cause rides along for the log.
 */
export async function verifySamlResponse(raw: unknown, c: ResponseCheck): Promise<VerifiedAssertion> {
  let doc: Document;
  let base64: string;
  try {
    const buf = decodeBase64Strict(raw, c.maxMessageSize);
    base64 = buf.toString('base64');
    doc = parseXml(xmlText(buf));
  } catch (e) {
    throw new UpstreamError('malformed', e instanceof SamlInputError ? e.userMessage : MSG.malformed, e);
  }
  const root = doc.documentElement!;
  if (root.namespaceURI !== NS.samlp || root.localName !== 'Response') throw new UpstreamError('malformed', msg('upstream.saml.not_a_response'));

  // A failure status carries no identity: show what the IdP said (status names only).
  const status = child(root, NS.samlp, 'Status');
  const top = child(status ?? root, NS.samlp, 'StatusCode');
  const topValue = attr(top, 'Value');
  if (topValue !== SUCCESS) {
    throw statusError(topValue, attr(top ? child(top, NS.samlp, 'StatusCode') : undefined, 'Value'), `status ${topValue}: ${text(child(status ?? root, NS.samlp, 'StatusMessage')) ?? ''}`);
  }

  checkAlgorithms(doc, c.allowSha1);
  const clear = children(root, NS.saml, 'Assertion');
  const encrypted = children(root, NS.saml, 'EncryptedAssertion');
  if (clear.length + encrypted.length !== 1) throw new UpstreamError('signature_invalid', MSG.signature, `response holds ${clear.length} assertion(s) and ${encrypted.length} encrypted one(s)`);
  // Comments inside signed text survive exclusive canonicalisation unchanged in the digest, so
  // `alice@example.org<!---->.evil.com` keeps its signature: no IdP sends comments there.
  if (descendants(root, NS.saml, 'Assertion').some((a) => hasCommentOrPi(a))) {
    throw new UpstreamError('malformed', msg('upstream.saml.xml_comments'));
  }
  if (encrypted.length && c.encryptedAssertions === 'off') throw new UpstreamError('malformed', msg('upstream.saml.encrypted_refused'));
  if (clear.length && c.encryptedAssertions === 'required') throw new UpstreamError('malformed', msg('upstream.saml.unencrypted_refused'));

  const destination = attr(root, 'Destination');
  if (destination !== undefined && destination !== c.acsUrl) throw new UpstreamError('recipient_mismatch', MSG.recipient, `Destination ${destination}`);
  const responseIssuer = text(child(root, NS.saml, 'Issuer'));
  if (responseIssuer !== undefined && responseIssuer !== c.idp.entityId) throw new UpstreamError('issuer_mismatch', MSG.issuer, `Response Issuer ${responseIssuer}`);
  const inResponseTo = attr(root, 'InResponseTo');
  if (c.requestId === undefined && inResponseTo !== undefined) throw new UpstreamError('state_mismatch', MSG.notAnswer, `unsolicited flow, but InResponseTo=${inResponseTo}`);
  if (c.requestId !== undefined && inResponseTo !== c.requestId) {
    throw new UpstreamError(inResponseTo === undefined ? 'unsolicited' : 'state_mismatch', MSG.notAnswer, `InResponseTo ${inResponseTo ?? '(none)'}, expected ${c.requestId}`);
  }

  const saml = new SAML({
    idpCert: c.idp.signingCerts,
    issuer: c.spEntityId,
    audience: c.spEntityId,
    callbackUrl: c.acsUrl,
    idpIssuer: c.idp.entityId,
    wantAssertionsSigned: c.signature === 'assertion' || c.signature === 'both',
    wantAuthnResponseSigned: c.signature === 'response' || c.signature === 'both',
    acceptedClockSkewMs: c.clockSkewSeconds * 1000,
    maxAssertionAgeMs: (c.maxAssertionAgeSeconds ?? 0) * 1000,
    ...(c.encryptedAssertions !== 'off' ? { decryptionPvk: c.spKey } : {}),
    validateInResponseTo: c.requestId ? ValidateInResponseTo.always : ValidateInResponseTo.ifPresent,
    cacheProvider: new OneRequestCache(c.requestId, c.requestIssuedAt ?? new Date(c.now).toISOString()),
    requestIdExpirationPeriodMs: 24 * 3600 * 1000,
  });
  let assertionXml: string | undefined;
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: base64 });
    // A signed NoPassive answer comes back as "no profile".
    if (!profile) throw statusError('urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:NoPassive');
    assertionXml = profile.getAssertionXml?.();
  } catch (e) {
    throw mapNodeSamlError(e);
  }
  if (!assertionXml) throw new UpstreamError('signature_invalid', MSG.signature, 'node-saml returned no signed assertion');

  // From here on, only the signed (and decrypted) assertion is read.
  let assertion: Element;
  try {
    assertion = parseXml(assertionXml).documentElement!;
  } catch (e) {
    throw new UpstreamError('malformed', MSG.malformed, e);
  }
  if (assertion.namespaceURI !== NS.saml || assertion.localName !== 'Assertion') throw new UpstreamError('signature_invalid', MSG.signature, 'signed element is not an Assertion');
  return checkAssertion(assertion, c, encrypted.length > 0);
}

function checkAssertion(a: Element, c: ResponseCheck, encrypted: boolean): VerifiedAssertion {
  const skew = c.clockSkewSeconds * 1000;
  const now = c.now;
  const assertionId = attr(a, 'ID');
  if (!assertionId) throw new UpstreamError('malformed', MSG.malformed, 'assertion without ID');
  const issuer = text(child(a, NS.saml, 'Issuer'));
  if (issuer !== c.idp.entityId) throw new UpstreamError('issuer_mismatch', MSG.issuer, `Assertion Issuer ${issuer ?? '(none)'}`);

  // Bearer subject confirmation: for us (Recipient), for this request (InResponseTo), still valid.
  const subject = child(a, NS.saml, 'Subject');
  if (!subject) throw new UpstreamError('malformed', MSG.malformed, 'assertion without Subject');
  const confirmations = children(subject, NS.saml, 'SubjectConfirmation').filter((s) => attr(s, 'Method') === BEARER);
  if (confirmations.length === 0) throw new UpstreamError('malformed', MSG.malformed, 'no bearer SubjectConfirmation');
  const failures: UpstreamError[] = [];
  let confirmedUntil: number | undefined;
  for (const sc of confirmations) {
    const data = child(sc, NS.saml, 'SubjectConfirmationData');
    const recipient = attr(data, 'Recipient');
    const irt = attr(data, 'InResponseTo');
    const notOnOrAfter = time(attr(data, 'NotOnOrAfter'));
    const notBefore = time(attr(data, 'NotBefore'));
    if (recipient !== c.acsUrl) failures.push(new UpstreamError('recipient_mismatch', MSG.recipient, `SubjectConfirmationData Recipient ${recipient ?? '(none)'}`));
    else if (c.requestId !== undefined && irt !== c.requestId) failures.push(new UpstreamError('state_mismatch', MSG.notAnswer, `SubjectConfirmationData InResponseTo ${irt ?? '(none)'}`));
    else if (c.requestId === undefined && irt !== undefined) failures.push(new UpstreamError('state_mismatch', MSG.notAnswer, `unsolicited, SubjectConfirmationData InResponseTo ${irt}`));
    else if (notOnOrAfter === undefined) failures.push(new UpstreamError('malformed', MSG.malformed, 'SubjectConfirmationData without NotOnOrAfter'));
    else if (now - skew >= notOnOrAfter) failures.push(new UpstreamError('expired', MSG.expired, 'SubjectConfirmationData expired'));
    else if (notBefore !== undefined && now + skew < notBefore) failures.push(new UpstreamError('not_yet_valid', MSG.notYetValid, 'SubjectConfirmationData not yet valid'));
    else {
      confirmedUntil = notOnOrAfter;
      break;
    }
  }
  if (confirmedUntil === undefined) throw failures[0]!;

  const conditions = children(a, NS.saml, 'Conditions');
  if (conditions.length !== 1) throw new UpstreamError('malformed', MSG.malformed, `${conditions.length} Conditions elements`);
  const cond = conditions[0]!;
  const condNotBefore = time(attr(cond, 'NotBefore'));
  const condNotOnOrAfter = time(attr(cond, 'NotOnOrAfter'));
  if (condNotBefore !== undefined && now + skew < condNotBefore) throw new UpstreamError('not_yet_valid', MSG.notYetValid, 'Conditions NotBefore');
  if (condNotOnOrAfter !== undefined && now - skew >= condNotOnOrAfter) throw new UpstreamError('expired', MSG.expired, 'Conditions NotOnOrAfter');
  const audiences = children(cond, NS.saml, 'AudienceRestriction');
  if (audiences.length === 0 || !audiences.every((r) => children(r, NS.saml, 'Audience').some((au) => text(au) === c.spEntityId))) {
    throw new UpstreamError('audience_mismatch', MSG.audience, 'AudienceRestriction does not name this SP');
  }
  const issueInstant = time(attr(a, 'IssueInstant'));
  if (issueInstant === undefined) throw new UpstreamError('malformed', MSG.malformed, 'assertion without IssueInstant');
  if (issueInstant > now + skew) throw new UpstreamError('not_yet_valid', MSG.notYetValid, 'IssueInstant in the future');
  if (c.maxAssertionAgeSeconds !== undefined && now - skew > issueInstant + c.maxAssertionAgeSeconds * 1000) throw new UpstreamError('expired', MSG.expired, 'older than max_assertion_age');

  const authn = children(a, NS.saml, 'AuthnStatement');
  if (authn.length === 0) throw new UpstreamError('malformed', MSG.malformed, 'assertion without AuthnStatement');
  const sessionNotOnOrAfter = time(attr(authn[0], 'SessionNotOnOrAfter'));
  if (sessionNotOnOrAfter !== undefined && now - skew >= sessionNotOnOrAfter) throw new UpstreamError('expired', MSG.expired, 'SessionNotOnOrAfter passed');

  if (hasEncryptedId(a)) throw new UpstreamError('malformed', msg('upstream.saml.encrypted_id'));
  const nameId = readNameId(a);
  const sessionIndex = attr(authn[0], 'SessionIndex');
  return {
    assertionId,
    issuer,
    ...(nameId ? { nameId } : {}),
    ...(sessionIndex ? { sessionIndex } : {}),
    attributes: readAttributes(a),
    usableUntil: Math.max(confirmedUntil, condNotOnOrAfter ?? 0) + skew,
    encrypted,
  };
}

/**
 * Refuses signature and digest algorithms outside the allowed list before any verification runs.
 * Only those of signatures (inside ds:SignedInfo) count: RSA-OAEP key transport in an
 * EncryptedKey carries its own ds:DigestMethod (often SHA-1, which is fine there).
 */
function checkAlgorithms(doc: Document, allowSha1: boolean) {
  for (const info of descendants(doc, NS.ds, 'SignedInfo')) {
    for (const m of descendants(info, NS.ds, 'SignatureMethod')) {
      const alg = attr(m, 'Algorithm') ?? '';
      if (!SIGNATURE_ALGORITHMS.has(alg) && !(allowSha1 && alg === SHA1_SIGNATURE)) throw new UpstreamError('signature_invalid', MSG.signature, `signature algorithm ${alg} not allowed`);
    }
    for (const m of descendants(info, NS.ds, 'DigestMethod')) {
      const alg = attr(m, 'Algorithm') ?? '';
      if (!DIGEST_ALGORITHMS.has(alg) && !(allowSha1 && alg === SHA1_DIGEST)) throw new UpstreamError('signature_invalid', MSG.signature, `digest algorithm ${alg} not allowed`);
    }
  }
}

function time(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UpstreamError('malformed', MSG.malformed, `invalid time ${v}`);
  return t;
}

/** node-saml reports everything as Error messages; turn them into our kinds. */
export function mapNodeSamlError(e: unknown): UpstreamError {
  if (e instanceof UpstreamError) return e;
  if (e instanceof SamlStatusError) return statusError(undefined, undefined, e);
  const m = e instanceof Error ? e.message : String(e);
  if (/InResponseTo/i.test(m)) return new UpstreamError('state_mismatch', MSG.notAnswer, e);
  if (/not yet valid/i.test(m)) return new UpstreamError('not_yet_valid', MSG.notYetValid, e);
  if (/expired|too old|subject confirmation/i.test(m)) return new UpstreamError('expired', MSG.expired, e);
  if (/audience/i.test(m)) return new UpstreamError('audience_mismatch', MSG.audience, e);
  if (/issuer/i.test(m)) return new UpstreamError('issuer_mismatch', MSG.issuer, e);
  // Decryption failures get the generic answer: a distinct one would be an oracle against the encryption.
  if (/decrypt|EncryptedAssertion|decryption|encrypted/i.test(m)) return new UpstreamError('malformed', MSG.malformed, e);
  if (/signature|signed|referenced node|refer to more than one|multiple assertions|transforms|ref URI/i.test(m)) return new UpstreamError('signature_invalid', MSG.signature, e);
  return new UpstreamError('malformed', MSG.malformed, e);
}
