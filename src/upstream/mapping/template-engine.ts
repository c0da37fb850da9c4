import { Liquid, type Context, type Emitter, type FS, type Template } from 'liquidjs';

/**
 * The one template language of claims mapping: LiquidJS, sandboxed. A template is written by the
 * operator (config) but evaluated over values the upstream IdP controls, so the engine can read
 * nothing but its scope and every render is bounded:
 *   - no file system: `include`, `render` and `layout` (and `block`) do not exist, and the FS refuses;
 *   - only own properties of the scope are visible (no prototype walking: `user.constructor` is empty);
 *   - unknown filters are a parse error, so a typo fails at config load, not at sign-in;
 *   - bounded template size, render time, allocations, rendered tags and output length;
 *   - bounded input: attribute values longer than `maxValueLength` (and list entries past
 *     `maxListEntries`) are left out of the scope before rendering.
 * LiquidJS 10 accepts a `templateLimit` option but does not enforce it (a 999×999 loop renders),
 * so the tag budget is ours (`withTagBudget`).
 */

export const TEMPLATE_LIMITS = {
  /** Characters of template source. */
  maxSourceLength: 2000,
  /**
   * Wall-clock budget of one render (renders are synchronous, on the event loop). A backstop: the
   * tag and allocation budgets stop hostile templates deterministically, long before it.
   */
  renderMs: 250,
  /** LiquidJS allocation units (string/array lengths created while rendering). */
  memory: 1_000_000,
  /** Tags, outputs and blocks rendered per call, loop bodies counted at every iteration. */
  tags: 10_000,
  /** Characters of rendered output (after trimming). */
  maxOutputLength: 1024,
  /** Characters of one attribute value a template may see. */
  maxValueLength: 4096,
  /** Entries of a multi-valued attribute a template may see. */
  maxListEntries: 500,
} as const;

/** Raised when a template cannot be parsed or rendered. `message` never contains scope values. */
export class TemplateError extends Error {
  constructor(
    readonly reason: 'syntax' | 'too_long' | 'render' | 'output_too_long',
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const NO_FILES: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async () => {
    throw new Error('templates cannot read files');
  },
  readFileSync: () => {
    throw new Error('templates cannot read files');
  },
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
};

/** Tags that reach outside the template (files, layouts) or produce HTML tables: removed. */
const REMOVED_TAGS = ['include', 'render', 'layout', 'block', 'tablerow'];

/**
 * `to_localpart`: a best-effort Matrix localpart from any string ("Élodie O'Brien" → "elodie-o-brien"):
 * accents dropped, lower-cased, runs of other characters become one `-`,
 * no leading/trailing separators. The result is still checked against the localpart policy.
 */
export function toLocalpart(value: unknown): string {
  return String(value ?? '')
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9._=\-/+]+/g, '-')
    .replace(/^[-._=/+]+|[-._=/+]+$/g, '');
}

/** Bytes kept as they are by Synapse's mapping: a Matrix localpart's characters but `=` (MXID_LOCALPART_ALLOWED_CHARACTERS). */
const MXID_KEPT = new Set([...'abcdefghijklmnopqrstuvwxyz0123456789_-./+'].map((c) => c.charCodeAt(0)));

/**
 * `mxid_localpart`: Synapse's `map_username_to_mxid_localpart` (the localpart its SSO mapping
 * providers make: OIDC after `localpart_template`, SAML's default `hexencode`, CAS), so templates
 * carried over from Synapse give the localparts Synapse gave: ASCII lower-cased, every other byte
 * of the UTF-8 text written as `=xx`, a leading `_` as `=5f`.
 */
export function mxidLocalpart(value: unknown): string {
  const bytes = Buffer.from(String(value ?? ''), 'utf8');
  let out = '';
  for (const byte of bytes) {
    const b = byte >= 0x41 && byte <= 0x5a ? byte + 32 : byte;
    out += MXID_KEPT.has(b) ? String.fromCharCode(b) : `=${b.toString(16).padStart(2, '0')}`;
  }
  return out.replace(/^_/, '=5f');
}

/** `mxid_dotreplace`: Synapse SAML's `dotreplace` mapping (lower-cased, other characters become `.`, no leading `_`). */
export function mxidDotreplace(value: unknown): string {
  return String(value ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_\-./=+]/gu, '.')
    .replace(/^_/, '');
}

/** `localpart_from_email`: Synapse's filter, everything before the last `@`. */
export function localpartFromEmail(value: unknown): string {
  const s = String(value ?? '');
  const at = s.lastIndexOf('@');
  return at < 0 ? s : s.slice(0, at);
}

function createEngine(): Liquid {
  const engine = new Liquid({
    fs: NO_FILES,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    dynamicPartials: false,
    cache: false,
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    jsTruthy: false,
    // Values are data, not HTML: whoever displays them escapes them.
    outputEscape: undefined,
    timezoneOffset: 0,
    parseLimit: TEMPLATE_LIMITS.maxSourceLength,
    renderLimit: TEMPLATE_LIMITS.renderMs,
    memoryLimit: TEMPLATE_LIMITS.memory,
  });
  for (const tag of REMOVED_TAGS) delete engine.tags[tag];
  engine.registerFilter('to_localpart', toLocalpart);
  engine.registerFilter('mxid_localpart', mxidLocalpart);
  engine.registerFilter('mxid_dotreplace', mxidDotreplace);
  engine.registerFilter('localpart_from_email', localpartFromEmail);
  withTagBudget(engine, TEMPLATE_LIMITS.tags);
  return engine;
}

const BUDGET = 'causeway:tag-budget';

/**
 * Every block of templates (the whole template, each branch, each loop iteration) is rendered
 * through `renderer.renderTemplates`: counting the templates it is handed, per render context,
 * bounds the work of one render whatever the loops multiply.
 */
function withTagBudget(engine: Liquid, limit: number): void {
  const renderer = engine.renderer;
  const original = renderer.renderTemplates.bind(renderer);
  renderer.renderTemplates = function* (templates: Template[], ctx: Context, emitter?: Emitter) {
    const budget = ctx.getRegister(BUDGET, { used: 0 }) as { used: number };
    // The block itself counts too: an empty loop body still costs an iteration.
    budget.used += templates.length + 1;
    if (budget.used > limit) throw new Error(`template tag limit exceeded (${limit} tags per render)`);
    return yield* original(templates, ctx, emitter);
  };
}

/** The scope a template sees: overlong values and list entries past the limit are left out. */
export function boundedAttributes(attributes: Readonly<Record<string, string | string[]>>, maxValueLength: number = TEMPLATE_LIMITS.maxValueLength): Record<string, string | string[]> {
  const entries: [string, string | string[]][] = [];
  for (const [k, v] of Object.entries(attributes)) {
    if (Array.isArray(v)) entries.push([k, v.slice(0, TEMPLATE_LIMITS.maxListEntries).filter((x) => typeof x === 'string' && x.length <= maxValueLength)]);
    else if (typeof v === 'string' && v.length <= maxValueLength) entries.push([k, v]);
  }
  // fromEntries: an attribute named "__proto__" stays an ordinary own key.
  return Object.fromEntries(entries);
}

const engine = createEngine();

/** A parsed template, ready to render many times. */
export interface CompiledTemplate {
  readonly source: string;
  readonly parsed: Template[];
}

/** Parses a template; throws TemplateError('syntax' | 'too_long') with a message fit for a config error. */
export function compileTemplate(source: string): CompiledTemplate {
  if (source.length > TEMPLATE_LIMITS.maxSourceLength) {
    throw new TemplateError('too_long', `template longer than ${TEMPLATE_LIMITS.maxSourceLength} characters`);
  }
  try {
    return { source, parsed: engine.parse(source) };
  } catch (e) {
    throw new TemplateError('syntax', firstLine(e));
  }
}

/** The syntax problem of a template source, or undefined when it parses (config validation). */
export function templateProblem(source: string): string | undefined {
  try {
    compileTemplate(source);
    return undefined;
  } catch (e) {
    return (e as TemplateError).message;
  }
}

/**
 * Renders over `{ user: attributes }` and returns the trimmed output ('' when the template
 * produced nothing). Throws TemplateError('render' | 'output_too_long').
 */
export function renderTemplate(
  template: CompiledTemplate,
  attributes: Readonly<Record<string, string | string[]>>,
  /** Tests only: a tighter time budget, to show that it is enforced. */
  renderMs: number = TEMPLATE_LIMITS.renderMs,
  /** Larger values and output for one template whose value is data, not text (an avatar given as a base64 photo). */
  sizes?: LargeValues,
): string {
  return renderTemplateIn(template, { user: boundedAttributes(attributes, sizes?.maxValueLength) }, renderMs, sizes);
}

/** Limits of a template that passes data through (the other limits stay). */
export interface LargeValues {
  maxValueLength: number;
  maxOutputLength: number;
}

/**
 * Renders over any scope of plain data (e.g. `{ request: … }` for templated authorization
 * parameters), with the same limits and the same trimmed output as renderTemplate.
 */
export function renderTemplateIn(template: CompiledTemplate, scope: Readonly<Record<string, unknown>>, renderMs: number = TEMPLATE_LIMITS.renderMs, sizes?: LargeValues): string {
  let out: unknown;
  const maxOutputLength = sizes?.maxOutputLength ?? TEMPLATE_LIMITS.maxOutputLength;
  try {
    out = engine.renderSync(template.parsed, scope, {
      renderLimit: renderMs,
      memoryLimit: Math.max(TEMPLATE_LIMITS.memory, 4 * maxOutputLength),
    });
  } catch (e) {
    // The message of a LiquidJS render error may quote the template, never the scope values.
    throw new TemplateError('render', firstLine(e));
  }
  const text = String(out ?? '').trim();
  if (text.length > maxOutputLength) {
    throw new TemplateError('output_too_long', `template output longer than ${maxOutputLength} characters`);
  }
  return text;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}
