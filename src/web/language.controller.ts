import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { setLanguageCookie } from './cookies.js';
import { singleValues } from './form.js';
import { PAGE_SETUP } from './page-renderer.js';
import { WEB_PATHS, type PageSetup } from './page-setup.js';

/**
 * The language picker's target (a GET form on every page, so it works without JavaScript):
 * remembers the language in a cookie and sends the browser back to the page it came from. The
 * return address must stay under the public base (no open redirect); otherwise, the home page.
 */
@Controller(WEB_PATHS.language)
export class LanguageController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PAGE_SETUP) private readonly setup: PageSetup,
  ) {}

  @Get()
  choose(@Query() rawQuery: unknown, @Res() reply: FastifyReply) {
    const q = singleValues(rawQuery);
    const language = this.setup.languages.find((l) => l.tag === q.lang);
    if (language) setLanguageCookie(reply, this.config, language.tag);
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', safeReturn(this.config.http.public_base, q.return)).send();
  }
}

/** `back` resolved against the public base, if it stays there (same origin, under its path); else the base itself. */
export function safeReturn(publicBase: string, back: string | undefined): string {
  if (!back || back.length > 2048 || /^[/\\]|^[a-z][a-z0-9+.-]*:/i.test(back) || /[\u0000-\u001f\\]/.test(back)) return publicBase;
  try {
    const base = new URL(publicBase);
    const url = new URL(back, base);
    return url.origin === base.origin && url.pathname.startsWith(base.pathname) ? url.href : publicBase;
  } catch {
    return publicBase;
  }
}
