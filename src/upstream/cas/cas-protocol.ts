import { CAS_NS, CasXmlError, SAMLP_NS, childrenNamed, onlyChild, parseXmlDocument, type XmlElement } from './cas-xml.js';
import { msg, type Msg } from '../../web/i18n/message.js';

/**
 * The CAS 2.0/3.0 protocol as pure functions: validation answers, Single Logout requests, ticket
 * shapes and URLs (https://apereo.github.io/cas/7.2.x/protocol/CAS-Protocol-Specification.html).
 */

export type ValidationResult = { ok: true; user: string; attributes: Record<string, string | string[]>; attributeForm: AttributeForm } | { ok: false; code: string; message: string };

/**
 * Where the attributes were found. Servers send one or more of these forms; only one is read so
 * that a server sending two (django-cas-server's CAS 2 answer) does not double the values.
 */
export type AttributeForm = 'cas3' | 'name-value' | 'rubycas' | 'none';

/** Elements of `cas:authenticationSuccess` that are protocol, not attributes. */
const SUCCESS_RESERVED = new Set(['user', 'attributes', 'attribute', 'proxyGrantingTicket', 'proxies']);
/** Attribute names that must never become object keys. */
const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_ATTRIBUTES = 500;
const MAX_VALUES = 5000;

/** Reads a `cas:serviceResponse` (the answer of /serviceValidate or /p3/serviceValidate). Throws CasXmlError. */
export function parseValidationResponse(xml: string): ValidationResult {
  const root = parseXmlDocument(xml);
  if (root.ns !== CAS_NS || root.local !== 'serviceResponse') throw new CasXmlError('unexpected', `root element is not cas:serviceResponse`);
  const success = onlyChild(root, CAS_NS, 'authenticationSuccess');
  const failure = onlyChild(root, CAS_NS, 'authenticationFailure');
  if (success && failure) throw new CasXmlError('unexpected', 'both authenticationSuccess and authenticationFailure');
  if (failure) {
    const code = /^[A-Z][A-Z0-9_]{0,63}$/.test(failure.attrs.code ?? '') ? failure.attrs.code! : 'UNKNOWN';
    return { ok: false, code, message: failure.text.slice(0, 500) };
  }
  if (!success) throw new CasXmlError('unexpected', 'neither authenticationSuccess nor authenticationFailure');

  const userEl = onlyChild(success, CAS_NS, 'user');
  if (!userEl || userEl.children.length || !userEl.text) throw new CasXmlError('unexpected', 'authenticationSuccess without a cas:user');
  if (userEl.text.length > 255) throw new CasXmlError('unexpected', 'cas:user longer than 255 characters');
  const { attributes, form } = readAttributes(success);
  return { ok: true, user: userEl.text, attributes, attributeForm: form };
}

function readAttributes(success: XmlElement): { attributes: Record<string, string | string[]>; form: AttributeForm } {
  const pairs: [string, string][] = [];
  const container = onlyChild(success, CAS_NS, 'attributes');
  const nameValue = childrenNamed(success, CAS_NS, 'attribute');
  let form: AttributeForm;
  if (container) {
    // CAS 3.0 (and Jasig-style CAS 2.0): <cas:attributes><cas:mail>…</cas:mail>…</cas:attributes>.
    form = 'cas3';
    for (const el of container.children) if (!el.children.length) pairs.push([el.local, el.text]);
  } else if (nameValue.length) {
    // Name-value style CAS 2.0 extension: <cas:attribute name="mail" value="…"/>.
    form = 'name-value';
    for (const el of nameValue) if (el.attrs.name) pairs.push([el.attrs.name, el.attrs.value ?? el.text]);
  } else {
    // RubyCAS-style CAS 2.0 extension: attributes as direct children of authenticationSuccess.
    const direct = success.children.filter((el) => !(el.ns === CAS_NS && SUCCESS_RESERVED.has(el.local)) && !el.children.length);
    form = direct.length ? 'rubycas' : 'none';
    for (const el of direct) pairs.push([el.local, el.text]);
  }
  if (pairs.length > MAX_VALUES) throw new CasXmlError('unexpected', `more than ${MAX_VALUES} attribute values`);

  const collected = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    if (UNSAFE_NAMES.has(name) || name.length > 256) continue;
    const values = collected.get(name) ?? [];
    values.push(value);
    collected.set(name, values);
  }
  if (collected.size > MAX_ATTRIBUTES) throw new CasXmlError('unexpected', `more than ${MAX_ATTRIBUTES} attributes`);
  const attributes: Record<string, string | string[]> = {};
  for (const [name, values] of collected) attributes[name] = values.length === 1 ? values[0]! : values;
  return { attributes, form };
}

/** Reads the `samlp:LogoutRequest` a CAS server POSTs for Single Logout; returns the service ticket it names. Throws CasXmlError. */
export function parseLogoutRequest(xml: string): { sessionIndex: string } {
  const root = parseXmlDocument(xml);
  if (root.ns !== SAMLP_NS || root.local !== 'LogoutRequest') throw new CasXmlError('unexpected', 'root element is not samlp:LogoutRequest');
  const index = onlyChild(root, SAMLP_NS, 'SessionIndex');
  if (!index || !isServiceTicket(index.text)) throw new CasXmlError('unexpected', 'LogoutRequest without a service ticket in SessionIndex');
  // saml:NameID is not read: django-cas-server sends it empty, Apereo sends "@NOT_USED@".
  return { sessionIndex: index.text };
}

/**
 * A service ticket: "ST-" and printable ASCII. The spec requires clients to accept 32 characters
 * and recommends 256; longer is refused.
 */
export function isServiceTicket(t: unknown): t is string {
  return typeof t === 'string' && t.length <= 256 && /^ST-[\x21-\x7e]+$/.test(t);
}

/** The CAS endpoints of a server base URL (without trailing slash). */
export function casEndpoints(serverUrl: string, protocol: 2 | 3) {
  const base = serverUrl.replace(/\/+$/, '');
  return {
    login: `${base}/login`,
    logout: `${base}/logout`,
    validate: protocol === 3 ? `${base}/p3/serviceValidate` : `${base}/serviceValidate`,
  };
}

/** Failure codes of the CAS protocol, with what the person is told and how the refusal is classified. */
export interface FailureExplanation {
  kind: 'audience_mismatch' | 'upstream_denied' | 'upstream_unavailable' | 'config';
  message: (idp: string) => Msg;
  status: number;
}

export function explainFailure(code: string): FailureExplanation {
  switch (code) {
    case 'INVALID_TICKET':
    case 'INVALID_TICKET_SPEC':
      return {
        kind: 'upstream_denied',
        status: 400,
        message: (provider) => msg('upstream.cas.ticket_invalid', { provider }),
      };
    case 'INVALID_SERVICE':
      return {
        kind: 'audience_mismatch',
        status: 400,
        message: (provider) => msg('upstream.cas.wrong_service', { provider }),
      };
    case 'INVALID_REQUEST':
      return { kind: 'upstream_denied', status: 400, message: (provider) => msg('upstream.cas.request_refused', { provider }) };
    case 'UNAUTHORIZED_SERVICE':
    case 'UNAUTHORIZED_SERVICE_PROXY':
      return { kind: 'config', status: 502, message: (provider) => msg('upstream.cas.unauthorized_service', { provider }) };
    case 'INTERNAL_ERROR':
      return { kind: 'upstream_unavailable', status: 502, message: (provider) => msg('upstream.cas.internal_error', { provider }) };
    default:
      return { kind: 'upstream_denied', status: 400, message: (provider) => msg('upstream.cas.refused', { provider, code: code.slice(0, 64) }) };
  }
}
