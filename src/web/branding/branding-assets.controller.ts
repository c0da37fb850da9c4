import { Controller, Get, Inject, NotFoundException, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { PAGE_SETUP } from '../page-renderer.js';
import { WEB_PATHS, type PageSetup } from '../page-setup.js';
import type { BrandAsset } from './branding.js';

/**
 * The operator's logo and favicon. Their URLs carry a content hash, so they may be cached for a
 * year; an SVG is served sandboxed (no scripts even when opened on its own).
 */
@Controller()
export class BrandingAssetsController {
  constructor(@Inject(PAGE_SETUP) private readonly setup: PageSetup) {}

  @Get(WEB_PATHS.logo)
  logo(@Res() reply: FastifyReply) {
    return this.send(reply, this.setup.branding.logo, 'public, max-age=31536000, immutable');
  }

  @Get(WEB_PATHS.favicon)
  favicon(@Res() reply: FastifyReply) {
    return this.send(reply, this.setup.branding.favicon, 'public, max-age=31536000, immutable');
  }

  /** Browsers ask for /favicon.ico on their own. */
  @Get('favicon.ico')
  faviconIco(@Res() reply: FastifyReply) {
    return this.send(reply, this.setup.branding.favicon, 'public, max-age=86400');
  }

  private async send(reply: FastifyReply, asset: BrandAsset | undefined, cache: string) {
    if (!asset) throw new NotFoundException();
    await reply
      .status(200)
      .headers({
        'Content-Type': asset.contentType,
        'Cache-Control': cache,
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        'Cross-Origin-Resource-Policy': 'same-origin',
      })
      .send(asset.body);
  }
}
