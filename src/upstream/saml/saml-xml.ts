import { inflateRawSync } from 'node:zlib';
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { msg, type Msg } from '../../web/i18n/message.js';
import { englishText } from '../../web/i18n/english.js';

/**
 * Safe handling of SAML XML before anything else looks at it: strict base64, a size cap, no
 * document type declarations (so no entity expansion, XXE or billion laughs, whatever the parser
 * underneath would do), a bounded inflate for the Redirect binding, and a namespace-aware DOM.
 */

export const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

/** A message we refuse before validation; `message` is safe to show. */
/** SAML input refused before any XML is trusted; `userMessage` says why, in words for the person. */
export class SamlInputError extends Error {
  constructor(readonly userMessage: Msg) {
    super(englishText(userMessage));
    this.name = 'SamlInputError';
  }
}

/** Base64 as SAML bindings use it (line breaks allowed); anything else is refused, not "best effort" decoded. */
export function decodeBase64Strict(value: unknown, maxBytes: number): Buffer {
  if (typeof value !== 'string' || value.length === 0) throw new SamlInputError(msg('upstream.saml.input.missing'));
  if (value.length > Math.ceil((maxBytes * 4) / 3) + 4096) throw new SamlInputError(msg('upstream.saml.input.too_large'));
  const compact = value.replace(/[\r\n\t ]+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new SamlInputError(msg('upstream.saml.input.not_base64'));
  const buf = Buffer.from(compact, 'base64');
  if (buf.length > maxBytes) throw new SamlInputError(msg('upstream.saml.input.too_large'));
  return buf;
}

/** HTTP-Redirect binding: DEFLATE, with the output bounded (a small input must not inflate to gigabytes). */
export function inflateLimited(buf: Buffer, maxBytes: number): Buffer {
  try {
    return inflateRawSync(buf, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|too large/i.test((e as Error).message)) {
      throw new SamlInputError(msg('upstream.saml.input.too_large'));
    }
    throw new SamlInputError(msg('upstream.saml.input.not_deflate'));
  }
}

/** UTF-8 text of a decoded message, refusing what SAML never carries: DTDs, entity declarations, NULs, invalid UTF-8. */
export function xmlText(buf: Buffer): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  if (text.includes('\uFFFD') || text.includes('\u0000')) throw new SamlInputError(msg('upstream.saml.input.not_utf8'));
  assertNoDtd(text);
  return text;
}

export function assertNoDtd(text: string): void {
  // SAML forbids DTDs (saml-bindings §3.1.1 / XML security considerations); refusing them outright
  // rules out entity expansion whatever a parser further down would do.
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new SamlInputError(msg('upstream.saml.input.doctype'));
}

/** Namespace-aware DOM; any parser error or warning about broken markup refuses the document. */
export function parseXml(text: string): Document {
  assertNoDtd(text);
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(text, 'text/xml');
  } catch {
    throw new SamlInputError(msg('upstream.saml.input.not_xml'));
  }
  if (!doc.documentElement) throw new SamlInputError(msg('upstream.saml.input.not_xml'));
  return doc;
}

export function isElement(n: Node | null | undefined): n is Element {
  return !!n && n.nodeType === 1;
}

/** Direct child elements with this namespace and local name. */
export function children(el: Element, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (isElement(n) && n.namespaceURI === ns && n.localName === local) out.push(n);
  }
  return out;
}

export function child(el: Element, ns: string, local: string): Element | undefined {
  return children(el, ns, local)[0];
}

/** Every descendant element with this namespace and local name, in document order. */
export function descendants(el: Element | Document, ns: string, local: string): Element[] {
  return Array.from(el.getElementsByTagNameNS(ns, local));
}

/** Text content of an element, trimmed. */
export function text(el: Element | undefined): string | undefined {
  const t = el?.textContent?.trim();
  return t ? t : undefined;
}

export function attr(el: Element | undefined, name: string): string | undefined {
  const v = el?.getAttribute(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}

/** True when a comment or processing instruction sits anywhere inside `el` (used against NameID/attribute comment injection). */
export function hasCommentOrPi(el: Node): boolean {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 8 || n.nodeType === 7) return true;
    if (isElement(n) && hasCommentOrPi(n)) return true;
  }
  return false;
}
