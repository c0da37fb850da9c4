/**
 * Translates the Jinja templates of Synapse's SSO mapping providers (`localpart_template`,
 * `display_name_template`, `email_template`, `subject_template`) to the Liquid of Causeway's
 * claims mapping, so that both give the same text over the same claims. Synapse renders them with
 * `jinja2.Environment(finalize=None→"")` and its `localpart_from_email` filter
 * (synapse/handlers/oidc.py); Causeway's engine has that filter too.
 *
 * What is translated: text; `{{ … }}` outputs over `user.a.b` / `user['a']` paths, string and number
 * literals; the methods `.lower() .upper() .strip() .split(sep) .replace(a, b)` and indexes `[n]`;
 * the filters `lower upper trim capitalize replace default/d first last length join
 * localpart_from_email string`; `~` concatenation; `a or b`; `{% if %}`/`{% elif %}`/`{% else %}`/
 * `{% endif %}` over paths (truthiness) and `==`/`!=` with a literal; `{{-`/`-}}` whitespace control.
 * Anything else is refused with a reason: the caller lists it, it is never dropped silently.
 */

export class UntranslatableTemplate extends Error {}

type Token = { t: 'id' | 'str' | 'num' | 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1]!;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new UntranslatableTemplate('unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+/.exec(src.slice(i));
    if (num && (c !== '-' || /^-\d/.test(src.slice(i)))) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(==|!=|[.|()[\],~+])/.exec(src.slice(i));
    if (!op) throw new UntranslatableTemplate(`unsupported character "${c}"`);
    out.push({ t: 'op', v: op[0] });
    i += op[0].length;
  }
  return out;
}

/** A Liquid value: a path or literal, then filters. */
interface Pipeline {
  base: string;
  filters: string[];
  /** True for a plain path or literal (usable as a filter argument). */
  simple: boolean;
}

type Expr = { k: 'pipe'; p: Pipeline } | { k: 'concat'; parts: Expr[] } | { k: 'or'; a: Expr; b: Expr };

const FILTERS: Record<string, (args: string[]) => string> = {
  lower: () => 'downcase',
  upper: () => 'upcase',
  trim: () => 'strip',
  capitalize: () => 'capitalize',
  first: () => 'first',
  last: () => 'last',
  length: () => 'size',
  count: () => 'size',
  localpart_from_email: () => 'localpart_from_email',
  replace: (a) => (a.length === 2 ? `replace: ${a[0]}, ${a[1]}` : unsupported('replace with a count')),
  default: (a) => (a.length === 1 ? `default: ${a[0]}` : unsupported('default with boolean=true')),
  d: (a) => (a.length === 1 ? `default: ${a[0]}` : unsupported('d with boolean=true')),
  join: (a) => `join: ${a[0] ?? '""'}`,
};

const METHODS: Record<string, (args: string[]) => string> = {
  lower: () => 'downcase',
  upper: () => 'upcase',
  strip: () => 'strip',
  split: (a) => (a.length === 1 ? `split: ${a[0]}` : unsupported('split without a separator, or with maxsplit')),
  replace: (a) => (a.length === 2 ? `replace: ${a[0]}, ${a[1]}` : unsupported('replace with a count')),
};

function unsupported(what: string): never {
  throw new UntranslatableTemplate(what);
}

const liquidString = (s: string) => JSON.stringify(s);

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(v?: string): Token | undefined {
    const t = this.toks[this.i];
    return v === undefined || t?.v === v ? t : undefined;
  }
  private take(v?: string): Token {
    const t = this.toks[this.i];
    if (!t || (v !== undefined && t.v !== v)) throw new UntranslatableTemplate(`expected ${v ?? 'more'} near "${t?.v ?? 'the end'}"`);
    this.i++;
    return t;
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }

  expr(): Expr {
    let left = this.concat();
    while (this.peek('or') && this.toks[this.i]!.t === 'id') {
      this.take();
      left = { k: 'or', a: left, b: this.concat() };
    }
    if (this.peek('and') || this.peek('not') || this.peek('in') || this.peek('if')) throw new UntranslatableTemplate(`the "${this.toks[this.i]!.v}" operator`);
    return left;
  }

  private concat(): Expr {
    const parts = [this.filtered()];
    while (this.peek('~') || this.peek('+')) {
      if (this.take().v === '+') throw new UntranslatableTemplate('"+" (use ~ to join strings)');
      parts.push(this.filtered());
    }
    return parts.length === 1 ? parts[0]! : { k: 'concat', parts };
  }

  private filtered(): Expr {
    const base = this.postfix();
    if (!this.peek('|')) return base;
    if (base.k !== 'pipe') throw new UntranslatableTemplate('a filter applied to a joined (~) or "or" expression');
    const p = { ...base.p, filters: [...base.p.filters] };
    while (this.peek('|')) {
      this.take('|');
      const name = this.take().v;
      const args = this.peek('(') ? this.args() : [];
      if (name === 'string' && !args.length) continue;
      const f = FILTERS[name];
      if (!f) throw new UntranslatableTemplate(`the "${name}" filter`);
      p.filters.push(f(args));
      p.simple = false;
    }
    return { k: 'pipe', p };
  }

  private args(): string[] {
    this.take('(');
    const out: string[] = [];
    while (!this.peek(')')) {
      const e = this.postfix();
      if (e.k !== 'pipe' || !e.p.simple) throw new UntranslatableTemplate('a computed argument');
      out.push(e.p.base);
      if (!this.peek(')')) this.take(',');
    }
    this.take(')');
    return out;
  }

  private postfix(): Expr {
    const t = this.take();
    let p: Pipeline;
    if (t.t === 'str') p = { base: liquidString(t.v), filters: [], simple: true };
    else if (t.t === 'num') p = { base: t.v, filters: [], simple: true };
    else if (t.t === 'id' && (t.v === 'true' || t.v === 'false' || t.v === 'none' || t.v === 'None')) p = { base: t.v.toLowerCase() === 'none' ? 'nil' : t.v, filters: [], simple: true };
    else if (t.t === 'id' && t.v === 'user') p = { base: 'user', filters: [], simple: true };
    else if (t.t === 'id') throw new UntranslatableTemplate(`the name "${t.v}" (templates see only user.*)`);
    else if (t.v === '(') {
      const inner = this.expr();
      this.take(')');
      if (inner.k !== 'pipe') throw new UntranslatableTemplate('a parenthesised ~ or "or" expression');
      p = inner.p;
    } else throw new UntranslatableTemplate(`"${t.v}"`);

    for (;;) {
      if (this.peek('.')) {
        this.take('.');
        const name = this.take();
        if (name.t !== 'id') throw new UntranslatableTemplate(`".${name.v}"`);
        if (this.peek('(')) {
          const m = METHODS[name.v];
          if (!m) throw new UntranslatableTemplate(`the .${name.v}() method`);
          p = { base: p.base, filters: [...p.filters, m(this.args())], simple: false };
        } else if (p.filters.length) throw new UntranslatableTemplate(`an attribute (.${name.v}) of a computed value`);
        else p = { ...p, base: `${p.base}.${name.v}` };
      } else if (this.peek('[')) {
        this.take('[');
        const key = this.take();
        this.take(']');
        if (key.t === 'str') {
          if (p.filters.length) throw new UntranslatableTemplate('a key of a computed value');
          p = { ...p, base: /^[A-Za-z_][A-Za-z0-9_]*$/.test(key.v) ? `${p.base}.${key.v}` : `${p.base}[${liquidString(key.v)}]` };
        } else if (key.t === 'num') {
          const n = Number(key.v);
          if (!p.filters.length && n >= 0) p = { ...p, base: `${p.base}[${n}]` };
          else {
            const f = n === 0 ? 'first' : n === -1 ? 'last' : n > 0 ? `slice: ${n} | first` : unsupported(`the index [${n}]`);
            p = { base: p.base, filters: [...p.filters, f], simple: false };
          }
        } else throw new UntranslatableTemplate('a computed index');
      } else break;
    }
    return { k: 'pipe', p };
  }
}

function pipelineText(p: Pipeline): string {
  return [p.base, ...p.filters].join(' | ');
}

/** Liquid output for an expression (several outputs for `~`, an if/else for `or` with a computed fallback). */
function outputOf(e: Expr, open: string, close: string): string {
  if (e.k === 'pipe') return `${open} ${pipelineText(e.p)} ${close}`;
  if (e.k === 'concat')
    return e.parts
      .map((part) => outputOf(part, '{{', '}}'))
      .join('')
      .replace(/^\{\{/, open)
      .replace(/\}\}$/, close);
  if (e.a.k === 'pipe' && e.b.k === 'pipe' && e.b.p.simple) return `${open} ${pipelineText({ ...e.a.p, filters: [...e.a.p.filters, `default: ${e.b.p.base}`] })} ${close}`;
  if (e.a.k !== 'pipe') throw new UntranslatableTemplate('"or" after a joined (~) expression');
  const a = pipelineText(e.a.p);
  if (e.a.p.filters.length) throw new UntranslatableTemplate('"or" after a filtered value with a computed fallback');
  return `{% if ${a} == blank %}${outputOf(e.b, '{{', '}}')}{% else %}{{ ${a} }}{% endif %}`;
}

function conditionOf(src: string): string {
  const toks = tokenize(src);
  const cmp = toks.find((t) => t.t === 'op' && (t.v === '==' || t.v === '!='));
  if (!cmp) {
    const e = new Parser(toks).expr();
    if (e.k !== 'pipe' || !e.p.simple) throw new UntranslatableTemplate('a condition other than a value or a comparison');
    // Jinja's truthiness: empty strings and lists are false (Liquid's `blank`).
    return `${e.p.base} != blank`;
  }
  const at = toks.indexOf(cmp);
  const left = new Parser(toks.slice(0, at)).expr();
  const right = new Parser(toks.slice(at + 1)).expr();
  if (left.k !== 'pipe' || right.k !== 'pipe' || !left.p.simple || !right.p.simple) throw new UntranslatableTemplate('a comparison of computed values');
  return `${left.p.base} ${cmp.v} ${right.p.base}`;
}

/** The Liquid translation of a Jinja template, or throws UntranslatableTemplate naming what is not supported. */
export function jinjaToLiquid(source: string): string {
  let out = '';
  let depth = 0;
  const re = /(\{\{-?|\{%-?|\{#)([\s\S]*?)(-?\}\}|-?%\}|#\})/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(source))) {
    out += source.slice(last, m.index);
    last = m.index + m[0].length;
    const [, open, body, close] = m as unknown as [string, string, string, string];
    if (open === '{#') continue;
    if (open.startsWith('{{')) {
      const parser = new Parser(tokenize(body));
      const e = parser.expr();
      if (!parser.done()) throw new UntranslatableTemplate(`unexpected "${body.trim()}"`);
      out += outputOf(e, open, close);
      continue;
    }
    const stmt = /^\s*(\w+)\s*([\s\S]*?)\s*$/.exec(body);
    const [keyword, rest] = [stmt?.[1] ?? '', stmt?.[2] ?? ''];
    if (keyword === 'if' || keyword === 'elif') {
      if (keyword === 'if') depth++;
      else if (!depth) throw new UntranslatableTemplate('elif outside if');
      out += `${open} ${keyword === 'elif' ? 'elsif' : 'if'} ${conditionOf(rest)} ${close}`;
    } else if (keyword === 'else' && !rest) {
      if (!depth) throw new UntranslatableTemplate('else outside if');
      out += `${open} else ${close}`;
    } else if (keyword === 'endif' && !rest) {
      if (!depth--) throw new UntranslatableTemplate('endif outside if');
      out += `${open} endif ${close}`;
    } else throw new UntranslatableTemplate(`the {% ${keyword} %} statement`);
  }
  if (depth) throw new UntranslatableTemplate('an if without endif');
  if (/\{\{|\{%|\{#/.test(source.slice(last))) throw new UntranslatableTemplate('an unterminated tag');
  return out + source.slice(last);
}
