import { Body, Controller, Headers, Inject, Post, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { ClientService } from '../clients/client.service.js';
import { RATE_LIMITS } from '../../http/rate-limits.js';
import { validateRegistration } from './client-metadata.js';
import { AccessDeniedError, InvalidRequestError } from '../errors.js';
import { registrationRefusal } from '../clients/client-policy.js';

/** RFC 7591 / MSC2966 dynamic client registration (docs/contracts/matrix-clients.md §2). */
@Controller()
export class RegistrationController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clients: ClientService,
  ) {}

  @Post('oauth2/registration')
  @RouteConfig({ rateLimit: RATE_LIMITS.registration })
  async register(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    // RFC 7591 §3.1: the metadata is a JSON document (a form body would parse into an object too).
    if (this.config.policy.client_registration === 'closed') throw new AccessDeniedError(registrationRefusal(this.config.policy, { client_uri: '', grant_types: [] }));
    if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) throw new InvalidRequestError('the body must be application/json');
    const metadata = validateRegistration(body, { allowInsecure: this.config.policy.allow_insecure_uris });
    const { clientId, issuedAt, secret } = await this.clients.register(metadata);
    await reply
      .status(201)
      .header('Cache-Control', 'no-store')
      .type('application/json')
      .send({
        client_id: clientId,
        client_id_issued_at: issuedAt,
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
        ...metadata,
      });
  }
}
