import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { PageRenderer } from '../../web/page-renderer.js';
import { PageError } from '../../web/page-error.js';
import { singleValues } from '../../web/form.js';
import { upstreamUrls } from '../upstream-urls.js';

/**
 * The dev sign-in's form (what an IdP's login page is for the real kinds). It posts the username
 * and the login's state to the generic callback; the single-use, unguessable state bound to the
 * login is what protects that POST, as for an IdP's form_post.
 */
@Controller('upstream')
export class DevLoginController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly renderer: PageRenderer,
  ) {}

  @Get(':providerId/dev-login')
  async form(@Param('providerId') providerId: string, @Query() rawQuery: unknown, @Res() reply: FastifyReply) {
    const provider = this.config.upstream.providers.find((p) => p.id === providerId && p.kind === 'dev');
    if (!provider || !this.config.dev_mode) throw new PageError(404, 'error.title.page_not_found', 'error.not_found');
    const query = singleValues(rawQuery);
    if (!query.state) throw new PageError(400, 'error.title.bad_request', 'error.dev_login_state_missing', { reason: 'state_missing' });
    await this.renderer.send(reply, 'dev-login', 200, {
      provider_name: provider.name,
      action: upstreamUrls(this.config.http.public_base, provider.id).callback,
      state: query.state,
      login_hint: query.login_hint ?? '',
      create: query.create === '1',
    });
  }
}
