import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { Liquid, type Context } from 'liquidjs';
import type { MessageFormatter } from './i18n/translator.js';
import { isMsg, type MessageKey, type MessageParam } from './i18n/message.js';

/** Page templates live beside this file (copied into dist/ by the build). */
export const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

/** What every template sees as `site` (a render global, so partials see it too). */
export interface SiteGlobals {
  lang: string;
  dir: 'ltr' | 'rtl';
  [k: string]: unknown;
}

/** `this` of a LiquidJS filter. */
interface FilterThis {
  context: Context;
}

function siteOf(filter: FilterThis): SiteGlobals | undefined {
  return (filter.context.globals as { site?: SiteGlobals }).site;
}

/**
 * The LiquidJS engine of the pages: auto-escaped output, unknown filters refused, the operator's
 * directory (`templates.path`) searched before the shipped templates, so a file there replaces the
 * shipped one of the same name (layouts and partials included). Two filters:
 * - `t`: a catalog message in the page's language, `{{ "consent.asks_access" | t: client: client.name }}`
 *   or a message object from the controller (`{{ title | t }}`); its output is already safe HTML.
 * - `datetime`: a timestamp (ms) as a date and time in the page's language (UTC).
 */
export function createPageEngine(formatter: MessageFormatter, overridePath?: string): Liquid {
  const engine = new Liquid({
    root: overridePath ? [resolve(overridePath), TEMPLATE_DIR] : [TEMPLATE_DIR],
    extname: '.liquid',
    outputEscape: 'escape',
    strictFilters: true,
    cache: true,
  });
  engine.registerFilter('t', {
    raw: true,
    handler(this: FilterThis, value: unknown, ...args: unknown[]) {
      const lang = siteOf(this)?.lang ?? 'en';
      const params: Record<string, MessageParam> = {};
      for (const a of args) {
        if (!Array.isArray(a) || typeof a[0] !== 'string') continue;
        const v: unknown = a[1];
        params[a[0]] = typeof v === 'number' || isMsg(v) ? v : v === undefined || v === null ? '' : String(v);
      }
      if (isMsg(value)) return formatter.html(lang, value, params);
      if (typeof value === 'string') return formatter.html(lang, value as MessageKey, params);
      throw new Error(`t: expected a message key, got ${value === undefined ? 'nothing' : typeof value}`);
    },
  });
  engine.registerFilter('datetime', function (this: FilterThis, value: unknown) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return '';
    const lang = siteOf(this)?.lang ?? 'en';
    return new Intl.DateTimeFormat(lang, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'UTC',
      timeZoneName: 'short',
    }).format(value);
  });
  return engine;
}
