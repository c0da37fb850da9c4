import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LANGUAGE_COOKIE } from './cookies.js';
import type { Language } from '../config/languages.js';
import type { MessageKey, MessageParam, Msg } from './i18n/message.js';
import { acceptLanguages, negotiateLanguage, type LanguageSource } from './i18n/negotiate.js';
import { renderPage, type PageSetup } from './page-setup.js';

/** Injection token of the PageSetup prepared before the server starts (WebModule.forRoot). */
export const PAGE_SETUP = Symbol('PAGE_SETUP');

/** Longest page address the language picker sends the browser back to. */
const MAX_RETURN_LENGTH = 2048;

export interface PageLanguage extends Language {
  source: LanguageSource;
}

/**
 * Server-rendered pages (LiquidJS, auto-escaped) in the language negotiated for the request.
 * Pages work without JavaScript: every step is a plain link or form. Security headers are
 * `PAGE_HEADERS`.
 */
@Injectable()
export class PageRenderer {
  private readonly languages = new WeakMap<FastifyRequest, PageLanguage>();
  private readonly tags: string[];

  constructor(@Inject(PAGE_SETUP) readonly setup: PageSetup) {
    this.tags = setup.languages.map((l) => l.tag);
  }

  /** `?lang=`, then the picker's cookie, then Accept-Language, then `branding.default_language`. */
  languageOf(request: FastifyRequest): PageLanguage {
    let found = this.languages.get(request);
    if (!found) {
      const query = (request.query ?? {}) as Record<string, unknown>;
      const { tag, source } = negotiateLanguage(
        {
          query: typeof query.lang === 'string' ? query.lang : undefined,
          cookie: request.cookies?.[LANGUAGE_COOKIE],
          acceptLanguage: request.headers['accept-language'],
        },
        this.tags,
        this.setup.defaultLanguage,
      );
      found = { ...this.setup.formatter.language(tag), source };
      this.languages.set(request, found);
    }
    return found;
  }

  /** Languages for a client's localized metadata (`client_name#de`): the page's, then the browser's. */
  clientLanguages(request: FastifyRequest): string[] {
    return [this.languageOf(request).tag, ...acceptLanguages(request.headers['accept-language'])];
  }

  /** A message as plain text in the request's language (for headers or logs, never for HTML). */
  text(request: FastifyRequest, m: Msg | MessageKey, params?: Record<string, MessageParam>): string {
    return this.setup.formatter.text(this.languageOf(request).tag, m, params);
  }

  render(request: FastifyRequest, template: string, vars: Record<string, unknown> = {}): Promise<string> {
    return renderPage(this.setup, template, vars, { lang: this.languageOf(request).tag, returnTo: returnPath(request) });
  }

  async send(reply: FastifyReply, template: string, status: number, vars: Record<string, unknown>): Promise<void> {
    const html = await this.render(reply.request, template, vars);
    await reply.status(status).headers(PAGE_HEADERS).header('Content-Language', this.languageOf(reply.request).tag).send(html);
  }
}

/** Addresses whose GET acts once (an IdP's answer, a legacy client's SSO hand-over): not reloaded by the picker. */
const SINGLE_USE = /^\/(upstream\/[^/]+\/(callback|cas\/|saml\/)|complete-compat-sso\/)/;

/**
 * Where the language picker returns to (relative to the public base): this page again when it
 * was a plain GET, without its `lang` parameter. After a form post, or on a single-use address,
 * the home page.
 */
export function returnPath(request: FastifyRequest): string {
  if (request.method !== 'GET' || request.url.length > MAX_RETURN_LENGTH) return '';
  const [path = '/', query] = request.url.split('?', 2);
  if (!path.startsWith('/') || path.startsWith('//') || SINGLE_USE.test(path)) return '';
  const params = new URLSearchParams(query ?? '');
  params.delete('lang');
  const q = params.toString();
  return `${path.slice(1)}${q ? `?${q}` : ''}`;
}

/** Headers for every HTML page: no framing, no scripts, no referrer leaks, no caching. */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
