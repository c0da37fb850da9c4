import { Injectable } from '@nestjs/common';
import { Liquid } from 'liquidjs';
import { fileURLToPath } from 'node:url';

/** Page templates live beside this file (copied into dist/ by the build). */
export const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

/**
 * Server-rendered pages (LiquidJS, auto-escaped). Pages work without JavaScript: every step is a
 * plain link or form. Security headers are set by `pageHeaders`.
 */
@Injectable()
export class PageRenderer {
  private readonly engine = new Liquid({
    root: TEMPLATE_DIR,
    extname: '.liquid',
    outputEscape: 'escape',
    strictFilters: true,
    cache: true,
  });

  render(template: string, vars: Record<string, unknown> = {}): Promise<string> {
    return this.engine.renderFile(template, vars);
  }
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
