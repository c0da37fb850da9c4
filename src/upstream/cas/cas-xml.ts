import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Strict, namespace-aware reading of the small XML documents CAS speaks (validation answers,
 * Single Logout requests). fast-xml-parser does the tokenising; everything that XML allows but
 * CAS never needs is refused: any markup declaration (DOCTYPE, ENTITY, ...), named entities other
 * than the five predefined ones, several root elements, oversized input.
 */

export class CasXmlError extends Error {
  constructor(
    readonly reason: 'too_large' | 'doctype' | 'not_well_formed' | 'entity' | 'unexpected',
    message: string,
  ) {
    super(message);
    this.name = 'CasXmlError';
  }
}

export interface XmlElement {
  /** Namespace URI ('' when none is in scope). */
  ns: string;
  /** Local name (prefix removed). */
  local: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data (text + CDATA) directly inside this element, entities decoded, trimmed. */
  text: string;
}

export const CAS_NS = 'http://www.yale.edu/tp/cas';
export const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** Larger than any real answer (a few hundred group memberships), small enough to bound memory. */
export const MAX_XML_BYTES = 1024 * 1024;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded below (predefined and character references only): the parser's own
  // expansion would honour entities declared in a DOCTYPE.
  processEntities: false,
  htmlEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 32,
});

const SKIPPED: [open: string, close: string][] = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
];

/**
 * The document without its comments, CDATA sections and processing instructions, tokenised left
 * to right as an XML reader does (in linear time: no regular expression backtracking).
 */
function skeletonOf(xml: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) return out + xml.slice(i);
    out += xml.slice(i, lt);
    const skip = SKIPPED.find(([open]) => xml.startsWith(open, lt));
    if (!skip) {
      out += '<';
      i = lt + 1;
      continue;
    }
    const end = xml.indexOf(skip[1], lt + skip[0].length);
    if (end < 0) throw new CasXmlError('not_well_formed', `unterminated ${skip[0]}`);
    i = end + skip[1].length;
  }
}

const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function parseXmlDocument(xml: string): XmlElement {
  if (Buffer.byteLength(xml, 'utf8') > MAX_XML_BYTES) throw new CasXmlError('too_large', `document larger than ${MAX_XML_BYTES} bytes`);
  // XML 1.0 §2.2: no C0 control but TAB, LF, CR, and no U+FFFE/U+FFFF, even raw (fast-xml-parser lets a raw NUL through).
  if (NOT_XML_CHAR.test(xml)) throw new CasXmlError('not_well_formed', 'a character XML does not allow');
  // Outside comments and CDATA, `<!` can only start a markup declaration (DOCTYPE, ENTITY, ELEMENT, ...).
  const skeleton = skeletonOf(xml);
  if (skeleton.includes('<!')) throw new CasXmlError('doctype', 'document type declarations are refused');
  // fast-xml-parser drops text after a self-closing root element: refuse it here.
  if (!/>\s*$/.test(skeleton)) throw new CasXmlError('not_well_formed', 'text after the root element');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CasXmlError('not_well_formed', `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  let nodes: unknown;
  try {
    nodes = parser.parse(xml);
  } catch (e) {
    throw new CasXmlError('not_well_formed', `XML refused: ${(e as Error).message}`);
  }
  const roots = elementsOf(nodes as RawNode[]);
  if (roots.length !== 1) throw new CasXmlError('not_well_formed', `expected one root element, found ${roots.length}`);
  return toElement(roots[0]!, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
}

type RawNode = Record<string, unknown>;

function isElementNode(n: RawNode): boolean {
  return Object.keys(n).some((k) => k !== ':@' && k !== '#text' && k !== '#cdata');
}

function elementsOf(nodes: RawNode[]): RawNode[] {
  const out: RawNode[] = [];
  for (const n of nodes) {
    if (isElementNode(n)) out.push(n);
    else if ('#text' in n && String(n['#text']).trim() !== '') throw new CasXmlError('not_well_formed', 'text outside the root element');
  }
  return out;
}

function toElement(raw: RawNode, parentScope: Map<string, string>): XmlElement {
  const qname = Object.keys(raw).find((k) => k !== ':@')!;
  const rawAttrs = (raw[':@'] ?? {}) as Record<string, string>;
  const scope = new Map(parentScope);
  const attrs: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawAttrs)) {
    const decoded = decodeEntities(String(value));
    if (name === 'xmlns') scope.set('', decoded);
    else if (name.startsWith('xmlns:')) scope.set(name.slice(6), decoded);
    else attrs[name] = decoded;
  }
  const colon = qname.indexOf(':');
  const prefix = colon >= 0 ? qname.slice(0, colon) : '';
  const local = colon >= 0 ? qname.slice(colon + 1) : qname;
  const ns = scope.get(prefix);
  if (ns === undefined && prefix !== '') throw new CasXmlError('not_well_formed', `undeclared namespace prefix "${prefix}"`);

  const children: XmlElement[] = [];
  let text = '';
  for (const child of (raw[qname] ?? []) as RawNode[]) {
    if ('#text' in child && !isElementNode(child)) text += decodeEntities(String(child['#text']));
    else if ('#cdata' in child && !isElementNode(child)) text += ((child['#cdata'] ?? []) as RawNode[]).map((c) => String(c['#text'] ?? '')).join('');
    else children.push(toElement(child, scope));
  }
  return { ns: ns ?? '', local, attrs, children, text: text.trim() };
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five predefined entities and character references; any other entity is an error (no DTD can define one). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]{0,16});?/g, (match, name: string) => {
    if (!match.endsWith(';')) throw new CasXmlError('entity', 'bare "&" in character data');
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (num) {
      const cp = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2]!, 10);
      if (isXmlChar(cp)) return String.fromCodePoint(cp);
    }
    throw new CasXmlError('entity', `entity "&${name};" is refused`);
  });
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Children with this namespace and local name. */
export function childrenNamed(el: XmlElement, ns: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.ns === ns && c.local === local);
}

/** The only child with this name: undefined when absent, an error when repeated. */
export function onlyChild(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  const found = childrenNamed(el, ns, local);
  if (found.length > 1) throw new CasXmlError('unexpected', `<${local}> appears ${found.length} times`);
  return found[0];
}
