import { Body, Controller, Header, Headers, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import { LOGGER } from '../../http/logger.module.js';
import { SessionTerminator } from '../../oauth2/oauth2.contracts.js';
import { InvalidRequestError, TemporarilyUnavailableError } from '../../oauth2/errors.js';
import { ConnectorRegistry } from '../connector-registry.js';
import { LogoutTokenError } from './logout-token.js';
import { OidcConnector } from './oidc.connector.js';

const logoutRequest = z.object({ logout_token: z.string().min(1).max(16_384) });

/**
 * OpenID Connect Back-Channel Logout 1.0 receiver: the IdP POSTs a signed logout token; every
 * Causeway session born from the named upstream session (sid) or subject (sub) ends (tokens
 * inactive at once; the homeserver sign-out goes through the outbox).
 * 200 on success; 400 invalid_request for a refused token (§2.8); 503 when the IdP's keys or our
 * storage are unreachable, so the IdP may retry. Answers carry Cache-Control: no-store.
 */
@Controller('upstream')
export class BackchannelLogoutController {
  private readonly log: Logger;

  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly terminator: SessionTerminator,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'oidc-backchannel-logout' });
  }

  @Post(':provider/backchannel-logout')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async receive(@Param('provider') providerId: string, @Body() body: unknown, @Headers('content-type') contentType: string | undefined): Promise<string> {
    const connector = this.registry.get(providerId);
    if (!(connector instanceof OidcConnector) || !connector.provider.backchannel_logout) {
      throw new NotFoundException('no back-channel logout endpoint for this provider');
    }
    // §2.5: the token comes as a form parameter; a JSON body is not this protocol.
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType ?? '')) {
      throw new InvalidRequestError('expected an application/x-www-form-urlencoded body');
    }
    const parsed = logoutRequest.safeParse(body);
    if (!parsed.success) throw new InvalidRequestError('expected one logout_token (application/x-www-form-urlencoded)');

    let token;
    try {
      token = await connector.acceptLogoutToken(parsed.data.logout_token);
    } catch (e) {
      if (!(e instanceof LogoutTokenError)) throw e;
      this.log.info({ provider: providerId, reason: e.reason, cause: (e.cause as Error | undefined)?.message }, 'logout token refused');
      if (e.reason === 'keys_unavailable') throw new TemporarilyUnavailableError(e.message);
      throw new InvalidRequestError(e.message);
    }

    let ended: number;
    try {
      ended = await this.terminator.endUpstreamSessions(providerId, { upstreamSid: token.sid, subject: token.sub });
    } catch (e) {
      // Let the IdP deliver the same token again.
      await connector.forgetLogoutToken(token.jti).catch(() => undefined);
      this.log.error({ err: e, provider: providerId }, 'back-channel logout: ending sessions failed');
      throw new TemporarilyUnavailableError('sessions could not be ended right now');
    }
    this.log.info({ provider: providerId, by: token.sid ? 'sid' : 'sub', ended }, 'back-channel logout');
    return '';
  }
}
