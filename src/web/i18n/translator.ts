import { IntlMessageFormat } from 'intl-messageformat';
import { escapeHtml, FORMAT_TAGS, type CompiledCatalog, type CompiledMessage } from './catalog.js';
import { REFERENCE_LANGUAGE, type Language } from '../../config/languages.js';
import { isMsg, type MessageKey, type MessageParam, type Msg } from './message.js';

type Output = 'html' | 'text';

/** Thrown for a key no catalog has: a programming or template error (caught by `causeway templates check`). */
export class UnknownMessageError extends Error {
  constructor(readonly key: string) {
    super(`unknown message "${key}"`);
    this.name = 'UnknownMessageError';
  }
}

/**
 * Formats catalog messages (intl-messageformat: ICU plurals, selects, numbers) in one language.
 * `html` output is safe to put in a page: the catalog's own text is escaped when it is compiled,
 * placeholder values when they are filled in, and the only markup is `<strong>`, `<em>`, `<code>`
 * and links whose address is a parameter (`<tos>terms</tos>` with `tos: "https://…"`).
 */
export class MessageFormatter {
  private readonly formats = new Map<string, IntlMessageFormat>();
  private readonly byTag: Map<string, Language>;

  constructor(
    readonly languages: readonly Language[],
    private readonly catalogs: ReadonlyMap<string, CompiledCatalog>,
    /** Values every message may use (`{service}`: the service's name). */
    private readonly shared: Record<string, string> = {},
  ) {
    this.byTag = new Map(languages.map((l) => [l.tag, l]));
  }

  language(tag: string): Language {
    return this.byTag.get(tag) ?? this.byTag.get(REFERENCE_LANGUAGE)!;
  }

  has(key: string): boolean {
    return this.catalogs.get(REFERENCE_LANGUAGE)!.has(key);
  }

  html(tag: string, m: Msg | MessageKey, params?: Record<string, MessageParam>): string {
    return this.format(tag, m, params, 'html', 0);
  }

  text(tag: string, m: Msg | MessageKey, params?: Record<string, MessageParam>): string {
    return this.format(tag, m, params, 'text', 0);
  }

  private message(tag: string, key: string): { locale: string; compiled: CompiledMessage } {
    const own = this.catalogs.get(tag)?.get(key);
    if (own) return { locale: tag, compiled: own };
    const fallback = this.catalogs.get(REFERENCE_LANGUAGE)!.get(key);
    if (!fallback) throw new UnknownMessageError(key);
    return { locale: REFERENCE_LANGUAGE, compiled: fallback };
  }

  private format(tag: string, m: Msg | MessageKey, extra: Record<string, MessageParam> | undefined, out: Output, depth: number): string {
    const key: string = typeof m === 'string' ? m : m.key;
    const params = { ...this.shared, ...(typeof m === 'string' ? {} : m.params), ...extra };
    const { locale, compiled } = this.message(tag, key);
    const cacheKey = `${out}\u0000${locale}\u0000${key}`;
    let fmt = this.formats.get(cacheKey);
    if (!fmt) {
      fmt = new IntlMessageFormat(out === 'html' ? compiled.html : compiled.text, locale);
      this.formats.set(cacheKey, fmt);
    }
    // In a right-to-left page, names and ids (left-to-right text) are isolated so that their
    // punctuation does not reorder the sentence around them (FSI … PDI, Unicode bidi isolates).
    const isolate = out === 'html' && this.language(tag).dir === 'rtl';
    const values: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(params)) {
      if (isMsg(v)) values[name] = depth < 3 ? this.format(tag, v, undefined, out, depth + 1) : '';
      else if (typeof v === 'string' && out === 'html') values[name] = isolate ? `\u2068${escapeHtml(v)}\u2069` : escapeHtml(v);
      else values[name] = v;
    }
    for (const sig of compiled.signature) {
      if (!sig.endsWith(':tag')) continue;
      const name = sig.slice(0, -':tag'.length);
      values[name] = tagFunction(name, params[name], out);
    }
    const result = fmt.format(values as Record<string, string>);
    return Array.isArray(result) ? result.join('') : String(result);
  }
}

function tagFunction(name: string, href: MessageParam | undefined, out: Output): (chunks: unknown[]) => string {
  if (out === 'text') return (chunks) => chunks.join('');
  if (FORMAT_TAGS.has(name)) return (chunks) => `<${name}>${chunks.join('')}</${name}>`;
  // A link: its address comes from the parameter of the same name; without one, just the words.
  if (typeof href === 'string' && /^https?:\/\//i.test(href)) return (chunks) => `<a href="${escapeHtml(href)}">${chunks.join('')}</a>`;
  return (chunks) => chunks.join('');
}
