import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../../http/logger.module.js';
import { ClientService } from '../clients/client.service.js';
import { ClientAuthenticator, readClientCredentials } from '../token/client-authentication.js';
import { formBody, required } from '../token/form-params.js';
import { RATE_LIMITS } from '../../http/rate-limits.js';
import { RevocationService } from './revocation.service.js';

/**
 * POST /oauth2/revoke. Confidential clients that send credentials must get them right (401
 * invalid_client); a missing or mismatching client_id still revokes (the SPEC wants secret
 * scanners to be able to kill leaked tokens). Always 200 `{}` as JSON (matrix-js-sdk 42 parses it).
 */
@Controller()
export class RevocationController {
  constructor(
    private readonly clients: ClientService,
    private readonly authenticator: ClientAuthenticator,
    private readonly revocation: RevocationService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post('oauth2/revoke')
  @RouteConfig({ rateLimit: RATE_LIMITS.revocation })
  async revoke(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const params = formBody(req);
    const creds = readClientCredentials(req.headers.authorization, params);
    if (creds.method !== 'none') await this.authenticator.authenticate(creds);
    const token = required(params, 'token');
    const ended = await this.revocation.revoke(token);
    if (ended && creds.method === 'none' && (!creds.clientId || !(await this.clients.find(creds.clientId)))) {
      this.logger.info({ reqId: req.id }, 'token revoked without a known client_id');
    }
    await reply.status(200).header('Cache-Control', 'no-store').type('application/json').send({});
  }
}
