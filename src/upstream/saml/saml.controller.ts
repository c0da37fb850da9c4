import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../../http/logger.module.js';
import { SessionTerminator } from '../../oauth2/oauth2.contracts.js';
import { PageError } from '../../web/page-error.js';
import { PageRenderer } from '../../web/page-renderer.js';
import { sendPage } from '../../web/send-page.js';
import { ConnectorRegistry } from '../connector-registry.js';
import { SamlConnector } from './saml.connector.js';
import { LogoutMessageError } from './saml-logout.js';

/**
 * The SAML endpoints besides the ACS (which is the login module's generic callback):
 * the SP metadata, and Single Logout in both directions.
 */
@Controller('upstream/:provider/saml')
export class SamlController {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly renderer: PageRenderer,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly terminator: SessionTerminator,
  ) {}

  private connector(id: string): SamlConnector {
    const found = /^[a-z0-9][a-z0-9_-]{0,63}$/.test(id) ? this.registry.get(id) : undefined;
    const c = found instanceof SamlConnector ? found : undefined;
    if (!c) throw new PageError(404, 'error.title.page_not_found', 'error.no_saml_idp');
    return c;
  }

  @Get('metadata')
  async metadata(@Param('provider') id: string, @Res() reply: FastifyReply) {
    const xml = this.connector(id).spMetadata();
    await reply.status(200).header('Content-Type', 'application/samlmetadata+xml; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(xml);
  }

  @Get('slo')
  sloRedirect(@Param('provider') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.slo(id, 'GET', req, reply);
  }

  @Post('slo')
  sloPost(@Param('provider') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.slo(id, 'POST', req, reply);
  }

  private async slo(id: string, method: 'GET' | 'POST', req: FastifyRequest, reply: FastifyReply) {
    const connector = this.connector(id);
    const log = this.logger.child({ component: 'saml-slo', provider: id });
    const q = req.url.indexOf('?');
    let outcome;
    try {
      outcome = await connector.handleSlo({
        method,
        query: (req.query ?? {}) as Record<string, unknown>,
        rawQuery: q >= 0 ? req.url.slice(q + 1) : '',
        body: (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>,
      });
    } catch (e) {
      if (e instanceof LogoutMessageError) {
        log.info({ reason: e.userMessage.key, detail: e.detail instanceof Error ? e.detail.message : e.detail }, 'SAML logout message refused');
        throw new PageError(400, 'error.title.sign_out_refused', e.userMessage, { reason: 'saml_logout_refused' });
      }
      throw e;
    }

    if (outcome.kind === 'response') {
      // As an OIDC IdP would: back to the sign-out's return address with its state.
      const back = new URL(outcome.returnTo);
      back.searchParams.set('state', outcome.state);
      await reply.status(303).header('Location', back.href).header('Cache-Control', 'no-store').send();
      return;
    }

    // IdP-initiated: end every Causeway session born from the named upstream session(s).
    const { request } = outcome;
    let ended = false;
    try {
      let count = 0;
      if (request.sessionIndexes.length) {
        for (const upstreamSid of request.sessionIndexes) count += await this.terminator.endUpstreamSessions(id, { upstreamSid });
      } else {
        // Without a SessionIndex: every session of the NameID (an upstream session's subject is the
        // connector's Assertion.subject, which for SAML is always the NameID).
        count = await this.terminator.endUpstreamSessions(id, { subject: request.nameId });
      }
      ended = true;
      log.info({ sessions: count }, 'IdP-initiated SAML logout');
    } catch (e) {
      log.error({ err: e }, 'IdP-initiated SAML logout failed');
    }
    const back = await outcome.finish(ended);
    if (back) {
      await reply.status(303).header('Location', back).header('Cache-Control', 'no-store').send();
      return;
    }
    if (ended) await this.renderer.send(reply, 'message', 200, { title: 'done.signed_out_title', message: 'done.upstream_signed_out' });
    else await sendPage(reply, this.renderer, 503, 'done.sign_out_incomplete_title', 'done.sign_out_incomplete', req.id);
  }
}
