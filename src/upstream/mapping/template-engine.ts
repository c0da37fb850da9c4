import { Liquid, type FS, type Template } from 'liquidjs';

/**
 * The one template language of claims mapping: LiquidJS, sandboxed. A template is written by the
 * operator (config) but evaluated over values the upstream IdP controls, so the engine can read
 * nothing but its scope and every render is bounded:
 *   - no file system: `include`, `render` and `layout` (and `block`) do not exist, and the FS refuses;
 *   - only own properties of the scope are visible (no prototype walking: `user.constructor` is empty);
 *   - unknown filters are a parse error, so a typo fails at config load, not at sign-in;
 *   - bounded template size, render time, allocations and output length.
 */

export const TEMPLATE_LIMITS = {
  /** Characters of template source. */
  maxSourceLength: 2000,
  /**
   * Wall-clock budget of one render. A backstop only (the allocation and template-count limits stop
   * hostile templates deterministically): generous, so a loaded machine never fails a real sign-in.
   */
  renderMs: 1000,
  /** LiquidJS allocation units (string/array lengths created while rendering). */
  memory: 1_000_000,
  /** Tag/output renders per call (loop bodies count each time). */
  templates: 10_000,
  /** Characters of rendered output (after trimming). */
  maxOutputLength: 1024,
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
  return engine;
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
export function renderTemplate(template: CompiledTemplate, attributes: Readonly<Record<string, string | string[]>>): string {
  return renderTemplateIn(template, { user: attributes });
}

/**
 * Renders over any scope of plain data (e.g. `{ request: … }` for templated authorization
 * parameters), with the same limits and the same trimmed output as renderTemplate.
 */
export function renderTemplateIn(template: CompiledTemplate, scope: Readonly<Record<string, unknown>>): string {
  let out: unknown;
  try {
    out = engine.renderSync(template.parsed, scope, {
      renderLimit: TEMPLATE_LIMITS.renderMs,
      memoryLimit: TEMPLATE_LIMITS.memory,
      templateLimit: TEMPLATE_LIMITS.templates,
    });
  } catch (e) {
    // The message of a LiquidJS render error may quote the template, never the scope values.
    throw new TemplateError('render', firstLine(e));
  }
  const text = String(out ?? '').trim();
  if (text.length > TEMPLATE_LIMITS.maxOutputLength) {
    throw new TemplateError('output_too_long', `template output longer than ${TEMPLATE_LIMITS.maxOutputLength} characters`);
  }
  return text;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}
