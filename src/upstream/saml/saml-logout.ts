import { SAML, type Profile } from '@node-saml/node-saml';
import type { Element } from '@xmldom/xmldom';
import type { IdpDescriptor } from './idp-metadata.js';
import { msg, type Msg } from '../../web/i18n/message.js';
import { englishText } from '../../web/i18n/english.js';
import { statusName } from './saml-status.js';
import { NS, SamlInputError, attr, child, children, decodeBase64Strict, inflateLimited, parseXml, text, xmlText } from './saml-xml.js';

/**
 * Single Logout messages. Every inbound message must be signed by the IdP: for the Redirect
 * binding the query signature (node-saml's check accepts a message with no `Signature` at all, so
 * StrictSaml insists on one), for POST the enveloped XML signature. Only then is the XML read.
 */

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const REDIRECT_SIG_ALGS = new Set(['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512']);
const SHA1_SIG_ALG = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';

export class LogoutMessageError extends Error {
  constructor(
    readonly userMessage: Msg,
    readonly detail?: unknown,
  ) {
    super(englishText(userMessage));
    this.name = 'LogoutMessageError';
  }
}

/** node-saml with the Redirect-binding signature made mandatory. */
class StrictSaml extends SAML {
  protected override async hasValidSignatureForRedirect(container: Parameters<SAML['validateRedirectAsync']>[0], originalQuery: string) {
    if (typeof container.Signature !== 'string' || !container.Signature || typeof container.SigAlg !== 'string') throw new Error('Redirect message without Signature');
    // node-saml throws on a bad signature and returns nothing on a good one.
    await super.hasValidSignatureForRedirect(container, originalQuery);
    return true;
  }
  async verifyRedirectSignature(container: Record<string, string>, originalQuery: string): Promise<void> {
    await this.hasValidSignatureForRedirect(container, originalQuery);
  }
}

export interface SloContext {
  idp: IdpDescriptor;
  spEntityId: string;
  acsUrl: string;
  sloUrl: string;
  spKey: string;
  signatureAlgorithm: 'sha256' | 'sha512';
  allowSha1: boolean;
  clockSkewSeconds: number;
  maxMessageSize: number;
  now: number;
}

export interface InboundLogoutRequest {
  kind: 'request';
  id: string;
  issuer: string;
  nameId: string;
  nameIdFormat?: string;
  sessionIndexes: string[];
  relayState?: string;
  issueInstant: number;
}
export interface InboundLogoutResponse {
  kind: 'response';
  id: string;
  issuer: string;
  inResponseTo?: string;
  success: boolean;
  status: string;
  relayState?: string;
}
export type InboundLogoutMessage = InboundLogoutRequest | InboundLogoutResponse;

function samlFor(c: SloContext, extra: Partial<ConstructorParameters<typeof SAML>[0]> = {}) {
  const target = c.idp.slo.redirect?.location ?? c.idp.sso.redirect ?? c.idp.sso.post ?? c.sloUrl;
  return new StrictSaml({
    idpCert: c.idp.signingCerts,
    issuer: c.spEntityId,
    callbackUrl: c.acsUrl,
    idpIssuer: c.idp.entityId,
    entryPoint: target,
    logoutUrl: target,
    privateKey: c.spKey,
    signatureAlgorithm: c.signatureAlgorithm,
    acceptedClockSkewMs: c.clockSkewSeconds * 1000,
    ...extra,
  });
}

/** The first raw (still URL-encoded) `key=value` token of a query string with exactly this key. */
function rawParam(rawQuery: string, key: string): string | undefined {
  const keyOf = (t: string) => {
    try {
      return decodeURIComponent(t.split('=')[0]!.replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  };
  const hits = rawQuery.split('&').filter((t) => keyOf(t) === key);
  if (hits.length > 1) throw new LogoutMessageError(msg('upstream.saml.logout.repeated_parameter'));
  return hits[0];
}

/**
 * Verifies an HTTP-Redirect logout message (`SAMLRequest` or `SAMLResponse` in the query).
 * `rawQuery` is the query string exactly as received: the signature covers its encoded bytes.
 */
export async function verifyRedirectLogout(query: Record<string, unknown>, rawQuery: string, c: SloContext): Promise<InboundLogoutMessage> {
  const isRequest = typeof query.SAMLRequest === 'string';
  const isResponse = typeof query.SAMLResponse === 'string';
  if (isRequest === isResponse) throw new LogoutMessageError(msg('upstream.saml.logout.not_logout'));
  for (const k of ['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature']) {
    if (query[k] !== undefined && typeof query[k] !== 'string') throw new LogoutMessageError(msg('upstream.saml.logout.repeated_parameter'));
  }
  const messageKey = isRequest ? 'SAMLRequest' : 'SAMLResponse';
  const sigAlg = query.SigAlg as string | undefined;
  const signature = query.Signature as string | undefined;
  if (!signature || !sigAlg) throw new LogoutMessageError(msg('upstream.saml.logout.unsigned'));
  if (!REDIRECT_SIG_ALGS.has(sigAlg) && !(c.allowSha1 && sigAlg === SHA1_SIG_ALG)) throw new LogoutMessageError(msg('upstream.saml.logout.algorithm'), sigAlg);

  // Rebuild the signed octet string from the raw tokens only, in the order the binding defines,
  // so extra or look-alike parameters cannot change what node-saml verifies.
  const tokens = [rawParam(rawQuery, messageKey), rawParam(rawQuery, 'RelayState'), rawParam(rawQuery, 'SigAlg')].filter((t): t is string => !!t);
  const container: Record<string, string> = { [messageKey]: query[messageKey] as string, SigAlg: sigAlg, Signature: signature };
  if (typeof query.RelayState === 'string') container.RelayState = query.RelayState;
  let xml: string;
  try {
    xml = xmlText(inflateLimited(decodeBase64Strict(query[messageKey], c.maxMessageSize), c.maxMessageSize));
  } catch (e) {
    throw new LogoutMessageError(e instanceof SamlInputError ? e.userMessage : msg('upstream.saml.logout.unreadable'), e);
  }
  try {
    await samlFor(c).verifyRedirectSignature(container, tokens.join('&'));
  } catch (e) {
    throw new LogoutMessageError(msg('upstream.saml.logout.signature_invalid'), e);
  }
  return readLogoutXml(xml, c, container.RelayState);
}

/** Verifies an HTTP-POST logout message (enveloped XML signature on the root element). */
export async function verifyPostLogout(body: Record<string, unknown>, c: SloContext): Promise<InboundLogoutMessage> {
  const isRequest = typeof body.SAMLRequest === 'string';
  const isResponse = typeof body.SAMLResponse === 'string';
  if (isRequest === isResponse) throw new LogoutMessageError(msg('upstream.saml.logout.not_logout'));
  const raw = (isRequest ? body.SAMLRequest : body.SAMLResponse) as string;
  let xml: string;
  let base64: string;
  try {
    const buf = decodeBase64Strict(raw, c.maxMessageSize);
    base64 = buf.toString('base64');
    xml = xmlText(buf);
    parseXml(xml);
  } catch (e) {
    throw new LogoutMessageError(e instanceof SamlInputError ? e.userMessage : msg('upstream.saml.logout.unreadable'), e);
  }
  try {
    const saml = samlFor(c);
    if (isRequest) await saml.validatePostRequestAsync({ SAMLRequest: base64 });
    else {
      const { loggedOut } = await saml.validatePostResponseAsync({ SAMLResponse: base64 });
      if (!loggedOut) throw new Error('not a LogoutResponse');
    }
  } catch (e) {
    throw new LogoutMessageError(msg('upstream.saml.logout.signature_missing_or_invalid'), e);
  }
  return readLogoutXml(xml, c, typeof body.RelayState === 'string' ? body.RelayState : undefined);
}

/** Reads a LogoutRequest/LogoutResponse whose signature has been verified, checking issuer, destination and time. */
function readLogoutXml(xml: string, c: SloContext, relayState: string | undefined): InboundLogoutMessage {
  const root = parseXml(xml).documentElement!;
  if (root.namespaceURI !== NS.samlp || (root.localName !== 'LogoutRequest' && root.localName !== 'LogoutResponse')) {
    throw new LogoutMessageError(msg('upstream.saml.logout.not_logout'));
  }
  const id = attr(root, 'ID');
  const issuer = text(child(root, NS.saml, 'Issuer'));
  if (!id) throw new LogoutMessageError(msg('upstream.saml.logout.no_id'));
  if (issuer !== c.idp.entityId) throw new LogoutMessageError(msg('upstream.saml.logout.other_idp'), `Issuer ${issuer}`);
  const destination = attr(root, 'Destination');
  if (destination !== undefined && destination !== c.sloUrl) throw new LogoutMessageError(msg('upstream.saml.logout.wrong_destination'), `Destination ${destination}`);
  const skew = c.clockSkewSeconds * 1000;
  const issueInstant = Date.parse(attr(root, 'IssueInstant') ?? '');
  if (Number.isNaN(issueInstant)) throw new LogoutMessageError(msg('upstream.saml.logout.no_issue_instant'));
  // A logout message is used at once; an old one is a replay.
  if (issueInstant > c.now + skew || issueInstant < c.now - skew - 10 * 60_000) throw new LogoutMessageError(msg('upstream.saml.logout.stale'));
  const relay = relayState !== undefined ? { relayState } : {};

  if (root.localName === 'LogoutResponse') {
    const top = child(child(root, NS.samlp, 'Status') ?? root, NS.samlp, 'StatusCode');
    const value = attr(top, 'Value') ?? '';
    const inResponseTo = attr(root, 'InResponseTo');
    return { kind: 'response', id, issuer, ...(inResponseTo ? { inResponseTo } : {}), success: value === SUCCESS, status: statusName(value) ?? 'unknown', ...relay };
  }
  const notOnOrAfter = Date.parse(attr(root, 'NotOnOrAfter') ?? '');
  if (!Number.isNaN(notOnOrAfter) && c.now - skew >= notOnOrAfter) throw new LogoutMessageError(msg('upstream.saml.logout.expired'));
  const nameIdEl: Element | undefined = child(root, NS.saml, 'NameID');
  const nameId = text(nameIdEl);
  if (!nameId) throw new LogoutMessageError(msg('upstream.saml.logout.no_name_id'));
  const format = attr(nameIdEl, 'Format');
  return {
    kind: 'request',
    id,
    issuer,
    nameId,
    ...(format ? { nameIdFormat: format } : {}),
    sessionIndexes: children(root, NS.samlp, 'SessionIndex')
      .map((s) => text(s))
      .filter((s): s is string => !!s),
    issueInstant,
    ...relay,
  };
}

export interface OutboundLogoutSubject {
  nameId: string;
  nameIdFormat?: string;
  nameQualifier?: string;
  spNameQualifier?: string;
  sessionIndex?: string;
}

/** A signed LogoutRequest to the IdP's HTTP-Redirect SingleLogoutService. */
export async function logoutRequestUrl(c: SloContext, subject: OutboundLogoutSubject, requestId: string, relayState: string): Promise<string> {
  const endpoint = c.idp.slo.redirect;
  if (!endpoint) throw new Error('the IdP has no HTTP-Redirect SingleLogoutService');
  const saml = samlFor(c, { logoutUrl: endpoint.location, entryPoint: endpoint.location, generateUniqueId: () => requestId });
  const profile: Profile = {
    issuer: c.idp.entityId,
    nameID: subject.nameId,
    nameIDFormat: subject.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    ...(subject.nameQualifier ? { nameQualifier: subject.nameQualifier } : {}),
    ...(subject.spNameQualifier ? { spNameQualifier: subject.spNameQualifier } : {}),
    ...(subject.sessionIndex ? { sessionIndex: subject.sessionIndex } : {}),
  };
  return saml.getLogoutUrlAsync(profile, relayState, {});
}

/** The signed LogoutResponse answering an IdP's LogoutRequest, to its HTTP-Redirect SingleLogoutService. */
export async function logoutResponseUrl(c: SloContext, request: InboundLogoutRequest, success: boolean): Promise<string | undefined> {
  const endpoint = c.idp.slo.redirect;
  if (!endpoint) return undefined;
  const target = endpoint.responseLocation ?? endpoint.location;
  const saml = samlFor(c, { logoutUrl: target, entryPoint: target });
  const profile: Profile = { issuer: request.issuer, nameID: request.nameId, nameIDFormat: request.nameIdFormat ?? '', ID: request.id };
  return saml.getLogoutResponseUrlAsync(profile, request.relayState ?? '', {}, success);
}
