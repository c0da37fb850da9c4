import { Controller, Get, Header, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { PageError } from '../../web/page-error.js';
import { CasLogoutService } from './cas-logout.service.js';
import { upstreamUrls } from '../upstream-urls.js';

/**
 * The CAS service URL ({public_base}upstream/{id}/cas/service?state=…). CAS servers use it twice:
 * the browser comes back with `?ticket=` (GET, forwarded to the login's generic callback) and,
 * later, the server POSTs Single Logout requests to it. `/cas/slo` takes logout requests only,
 * for servers whose service registry names a separate logout URL.
 */
@Controller('upstream/:provider/cas')
export class CasServiceController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly logout: CasLogoutService,
  ) {}

  @Get('service')
  forward(@Param('provider') providerId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    this.logout.provider(providerId);
    const query = req.query as Record<string, unknown>;
    const target = new URL(upstreamUrls(this.config.http.public_base, providerId).callback);
    for (const name of ['state', 'ticket']) {
      const value = query[name];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value.length > 512) {
        throw new PageError(400, 'error.title.sign_in_failed', 'error.cas_bad_parameter', { reason: `bad ${name} parameter` });
      }
      target.searchParams.set(name, value);
    }
    return reply.status(303).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').redirect(target.href, 303);
  }

  @Post('service')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  sloAtService(@Param('provider') providerId: string, @Req() req: FastifyRequest) {
    return this.receive(providerId, req);
  }

  @Post('slo')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  slo(@Param('provider') providerId: string, @Req() req: FastifyRequest) {
    return this.receive(providerId, req);
  }

  /** `req.ip` honours http.trust_proxy (Fastify's trustProxy): the client address, not the proxy's, behind an ingress. */
  private async receive(providerId: string, req: FastifyRequest): Promise<string> {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new PageError(415, 'error.title.unsupported_request', 'error.cas_logout_content_type', { reason: `content type ${type}` });
    }
    await this.logout.receive(providerId, req.ip, req.body);
    // The same answer whether or not a session ended: the body tells nothing about tickets.
    return 'ok';
  }
}
