import type { SaxesAttributeNS, SaxesTagNS } from 'saxes';

/**
 * Exclusive XML Canonicalization 1.0 without comments (https://www.w3.org/TR/xml-exc-c14n/),
 * written from SAX events as they stream by, so a 50 MB metadata aggregate can be digested
 * without building a DOM. Only what the signature of an aggregate needs: no InclusiveNamespaces
 * prefix list (refused by the caller), no XPath node-sets other than "the whole document / the
 * root element minus one excluded subtree". The parser (saxes) has already normalised line
 * endings and attribute values and refused DTDs, so every entity is a predefined or character one.
 * Unit tests compare its output with xml-crypto's DOM-based ExclusiveCanonicalization.
 */

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';

interface Frame {
  /** Namespace prefix → URI as rendered by the nearest output ancestor (shared until changed). */
  rendered: ReadonlyMap<string, string>;
  qname: string;
}

export class ExcC14nWriter {
  private readonly stack: Frame[] = [];
  private readonly root: ReadonlyMap<string, string> = new Map();

  /** `out` receives the canonical text in order, in pieces. */
  constructor(private readonly out: (s: string) => void) {}

  get depth(): number {
    return this.stack.length;
  }

  open(tag: SaxesTagNS): void {
    const parent = this.stack.length ? this.stack[this.stack.length - 1]!.rendered : this.root;
    // Visibly utilised prefixes: the element's own, and those of its (non-xmlns, non-xml) attributes.
    const used = new Map<string, string>([[tag.prefix, tag.uri]]);
    const attrs: SaxesAttributeNS[] = [];
    for (const a of Object.values(tag.attributes) as SaxesAttributeNS[]) {
      if (a.uri === XMLNS_URI || a.name === 'xmlns') continue;
      if (a.prefix && a.prefix !== 'xml') used.set(a.prefix, a.uri);
      attrs.push(a);
    }
    let rendered = parent;
    const decls: [string, string][] = [];
    for (const [prefix, uri] of used) {
      const before = parent.get(prefix);
      // The default namespace: xmlns="" only to undo a non-empty default an output ancestor rendered.
      if (prefix === '' ? uri !== (before ?? '') : before !== uri) {
        decls.push([prefix, uri]);
        if (rendered === parent) rendered = new Map(parent);
        (rendered as Map<string, string>).set(prefix, uri);
      }
    }
    decls.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    attrs.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
    let s = `<${tag.name}`;
    for (const [prefix, uri] of decls) s += prefix ? ` xmlns:${prefix}="${escapeAttr(uri)}"` : ` xmlns="${escapeAttr(uri)}"`;
    for (const a of attrs) s += ` ${a.name}="${escapeAttr(a.value)}"`;
    this.out(`${s}>`);
    this.stack.push({ rendered, qname: tag.name });
  }

  close(): void {
    const frame = this.stack.pop();
    if (!frame) throw new Error('unbalanced close');
    this.out(`</${frame.qname}>`);
  }

  text(t: string): void {
    if (this.stack.length) this.out(escapeText(t));
  }

  /** A processing instruction; `position` says where it sits relative to the document element. */
  pi(target: string, body: string, position: 'before' | 'inside' | 'after'): void {
    const pi = `<?${target}${body ? ` ${body}` : ''}?>`;
    this.out(position === 'before' ? `${pi}\n` : position === 'after' ? `\n${pi}` : pi);
  }
}

export function escapeText(t: string): string {
  return /[&<>\r]/.test(t) ? t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;') : t;
}

export function escapeAttr(t: string): string {
  return /[&<"\t\n\r]/.test(t) ? t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;') : t;
}
