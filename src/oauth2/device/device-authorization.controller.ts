import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { UnauthorizedClientError } from '../errors.js';
import { clientRefusal } from '../clients/client-policy.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientAuthenticator, readClientCredentials } from '../token/client-authentication.js';
import { formBody } from '../token/form-params.js';
import { sendTokenJson } from '../token/token.controller.js';
import { RATE_LIMITS } from '../../http/rate-limits.js';
import { DeviceAuthorizationService } from './device-authorization.service.js';

/**
 * POST /oauth2/device (RFC 8628 §3.1-3.2): 200 JSON, errors 400 unauthorized_client (also when
 * `policy.device_code_grant` is false) / invalid_scope.
 */
@Controller()
export class DeviceAuthorizationController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clients: ClientAuthenticator,
    private readonly devices: DeviceAuthorizationService,
  ) {}

  @Post('oauth2/device')
  @RouteConfig({ rateLimit: RATE_LIMITS.deviceAuthorization })
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!this.config.policy.device_code_grant) throw new UnauthorizedClientError('the device authorization grant is turned off on this server (policy.device_code_grant: false)');
    const params = formBody(req);
    const client = await this.clients.authenticate(readClientCredentials(req.headers.authorization, params));
    const refusal = clientRefusal(this.config.policy, client);
    if (refusal) throw new UnauthorizedClientError(refusal);
    await sendTokenJson(reply, await this.devices.start(client, params.scope));
  }
}
