import { Controller, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientAuthenticator, readClientCredentials } from '../token/client-authentication.js';
import { formBody } from '../token/form-params.js';
import { sendTokenJson } from '../token/token.controller.js';
import { RATE_LIMITS } from '../../http/rate-limits.js';
import { DeviceAuthorizationService } from './device-authorization.service.js';

/** POST /oauth2/device (RFC 8628 §3.1-3.2): 200 JSON, errors 400 unauthorized_client / invalid_scope. */
@Controller()
export class DeviceAuthorizationController {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly devices: DeviceAuthorizationService,
  ) {}

  @Post('oauth2/device')
  @RouteConfig({ rateLimit: RATE_LIMITS.deviceAuthorization })
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const params = formBody(req);
    const client = await this.clients.authenticate(readClientCredentials(req.headers.authorization, params));
    await sendTokenJson(reply, await this.devices.start(client, params.scope));
  }
}
