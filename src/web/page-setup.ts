import type { Liquid } from 'liquidjs';
import type { GatewayConfig } from '../config/config.schema.js';
import { BrandingError, loadBranding, type Branding } from './branding/branding.js';
import { formatProblem, loadCatalogs } from './i18n/catalog-loader.js';
import type { Language } from '../config/languages.js';
import { MessageFormatter } from './i18n/translator.js';
import { createPageEngine, type SiteGlobals } from './page-engine.js';

/** Paths of the page infrastructure's own routes (relative to `http.public_base`). */
export const WEB_PATHS = {
  language: 'language',
  logo: 'branding/logo',
  favicon: 'branding/favicon',
} as const;

/** Everything the pages need, prepared once before the server starts. */
export interface PageSetup {
  formatter: MessageFormatter;
  languages: Language[];
  defaultLanguage: string;
  engine: Liquid;
  branding: Branding;
  publicBase: string;
  /** Operator catalogs that leave messages to English, a brand colour adjusted for contrast, …: logged at start-up. */
  warnings: string[];
}

/** Catalogs, templates or branding files that cannot be used: start-up and `templates check` list every problem. */
export class PageSetupError extends Error {
  constructor(readonly problems: string[]) {
    super(`the pages cannot be set up: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'PageSetupError';
  }
}

/** Loads catalogs (shipped + `templates.translations_path`), branding files and the template engine (`templates.path`). */
export function preparePages(config: GatewayConfig): PageSetup {
  const problems: string[] = [];
  const warnings: string[] = [];
  const loaded = loadCatalogs({ translationsPath: config.templates.translations_path });
  problems.push(...loaded.errors.map(formatProblem));
  warnings.push(...loaded.warnings.map(formatProblem));
  if (!loaded.languages.some((l) => l.tag === config.branding.default_language)) {
    problems.push(`branding.default_language: no catalog for "${config.branding.default_language}" (available: ${loaded.languages.map((l) => l.tag).join(', ')})`);
  }
  let branding: Branding | undefined;
  try {
    branding = loadBranding(config);
  } catch (e) {
    if (!(e instanceof BrandingError)) throw e;
    problems.push(e.message);
  }
  if (branding && branding.palette.light.accent !== config.branding.primary_color.toLowerCase()) {
    warnings.push(`branding.primary_color: ${config.branding.primary_color} is too light for text on white; pages use ${branding.palette.light.accent} (WCAG AA 4.5:1)`);
  }
  if (problems.length) throw new PageSetupError(problems);
  const formatter = new MessageFormatter(loaded.languages, loaded.catalogs, { service: branding!.serviceName });
  return {
    formatter,
    languages: loaded.languages,
    defaultLanguage: config.branding.default_language,
    engine: createPageEngine(formatter, config.templates.path),
    branding: branding!,
    publicBase: config.http.public_base,
    warnings,
  };
}

/** What the layout and every partial see as `site`: language, branding, the language picker. */
export function siteGlobals(setup: PageSetup, lang: string, returnTo: string): SiteGlobals {
  const language = setup.formatter.language(lang);
  const b = setup.branding;
  const base = setup.publicBase;
  return {
    lang: language.tag,
    dir: language.dir,
    service_name: b.serviceName,
    home_url: base,
    logo_url: b.logo ? `${base}${WEB_PATHS.logo}?v=${b.logo.version}` : undefined,
    favicon_url: b.favicon ? `${base}${WEB_PATHS.favicon}?v=${b.favicon.version}` : undefined,
    colors: b.palette,
    tos_uri: b.tosUri,
    policy_uri: b.policyUri,
    imprint: b.imprint,
    language_action: `${base}${WEB_PATHS.language}`,
    return_to: returnTo,
    languages: setup.languages.map((l) => ({ tag: l.tag, name: l.name, selected: l.tag === language.tag })),
  };
}

/** Renders one page template in a language (the HTTP layer and `causeway templates check` alike). */
export function renderPage(setup: PageSetup, template: string, vars: Record<string, unknown>, opts: { lang: string; returnTo?: string }): Promise<string> {
  return setup.engine.renderFile(template, vars, { globals: { site: siteGlobals(setup, opts.lang, opts.returnTo ?? '') } });
}
