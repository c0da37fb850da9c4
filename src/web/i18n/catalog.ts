import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';

/**
 * Message catalogs (pure): nested JSON objects whose string leaves are ICU MessageFormat messages,
 * flattened to dotted keys, parsed once and checked against the English catalog (the reference).
 */

/** Inline formatting a message may use as-is; any other tag is a link whose href is the parameter of the same name. */
export const FORMAT_TAGS = new Set(['strong', 'em', 'code']);

export interface CompiledMessage {
  /** The parsed message with every literal HTML-escaped: safe to format into a page. */
  html: MessageFormatElement[];
  /** The parsed message as written (plain text output). */
  text: MessageFormatElement[];
  /** Placeholders and tags, `name:kind`, sorted: what every translation must keep. */
  signature: string[];
}

export type CompiledCatalog = Map<string, CompiledMessage>;

/** One problem in a catalog: which key, and what. */
export interface CatalogProblem {
  key: string;
  message: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `{ a: { b: "x" } }` → `a.b = "x"`; anything but strings and objects is a problem. */
export function flattenCatalog(tree: unknown, problems: CatalogProblem[], prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    problems.push({ key: prefix || '(root)', message: 'expected an object of messages' });
    return out;
  }
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) for (const [kk, vv] of flattenCatalog(v, problems, key)) out.set(kk, vv);
    else problems.push({ key, message: 'expected a message (string) or a group of messages (object)' });
  }
  return out;
}

const KIND: Partial<Record<TYPE, string>> = {
  [TYPE.argument]: 'text',
  [TYPE.number]: 'number',
  [TYPE.date]: 'date',
  [TYPE.time]: 'time',
  [TYPE.select]: 'select',
  [TYPE.plural]: 'plural',
  [TYPE.tag]: 'tag',
};

function walk(els: MessageFormatElement[], visit: (el: MessageFormatElement) => void): void {
  for (const el of els) {
    visit(el);
    if (el.type === TYPE.select || el.type === TYPE.plural) for (const o of Object.values(el.options)) walk(o.value, visit);
    if (el.type === TYPE.tag) walk(el.children, visit);
  }
}

function escapedCopy(els: MessageFormatElement[]): MessageFormatElement[] {
  return els.map((el) => {
    if (el.type === TYPE.literal) return { ...el, value: escapeHtml(el.value) };
    if (el.type === TYPE.select || el.type === TYPE.plural) {
      const options = Object.fromEntries(Object.entries(el.options).map(([k, o]) => [k, { ...o, value: escapedCopy(o.value) }]));
      return { ...el, options } as MessageFormatElement;
    }
    if (el.type === TYPE.tag) return { ...el, children: escapedCopy(el.children) };
    return el;
  });
}

/** Parses one message; throws with the parser's reason when it is not valid ICU MessageFormat. */
export function compileMessage(text: string): CompiledMessage {
  const ast = parse(text, { requiresOtherClause: true });
  const sig = new Set<string>();
  walk(ast, (el) => {
    const kind = KIND[el.type];
    if (kind && 'value' in el && typeof el.value === 'string') sig.add(`${el.value}:${kind}`);
  });
  return { html: escapedCopy(ast), text: ast, signature: [...sig].sort() };
}

/** Compiles every message of a flat catalog; syntax errors become problems (the message is left out). */
export function compileCatalog(messages: Map<string, string>, problems: CatalogProblem[]): CompiledCatalog {
  const out: CompiledCatalog = new Map();
  for (const [key, text] of messages) {
    try {
      out.set(key, compileMessage(text));
    } catch (e) {
      problems.push({ key, message: `not a valid ICU message: ${(e as Error).message}` });
    }
  }
  return out;
}

/**
 * A translation against the reference (English): keys it misses, keys the reference does not
 * have, and messages whose placeholders or tags differ. `partial` (operator catalogs) allows
 * missing keys: English fills them in.
 */
export function compareCatalogs(reference: CompiledCatalog, catalog: CompiledCatalog, opts: { partial?: boolean } = {}): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  if (!opts.partial) for (const key of reference.keys()) if (!catalog.has(key)) problems.push({ key, message: 'missing' });
  for (const [key, m] of catalog) {
    const ref = reference.get(key);
    if (!ref) {
      problems.push({ key, message: 'not a message of the English catalog (misspelt or obsolete key)' });
      continue;
    }
    const want = ref.signature.join(', ');
    const got = m.signature.join(', ');
    if (want !== got) problems.push({ key, message: `placeholders differ from English: expected [${want}], found [${got}]` });
  }
  return problems;
}

/** Plurals that lack a category the language needs (Arabic has six: zero, one, two, few, many, other). */
export function pluralProblems(locale: string, catalog: CompiledCatalog): CatalogProblem[] {
  const needed = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
  const problems: CatalogProblem[] = [];
  for (const [key, m] of catalog) {
    walk(m.text, (el) => {
      if (el.type !== TYPE.plural || el.pluralType === 'ordinal') return;
      const missing = needed.filter((c) => !(c in el.options));
      if (missing.length) problems.push({ key, message: `plural "${el.value}" lacks the ${locale} categories ${missing.join(', ')}` });
    });
  }
  return problems;
}
