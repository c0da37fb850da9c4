import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { GRANT } from '../clients/client.js';
import { clientRefusal } from '../clients/client-policy.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedClientError, UnsupportedGrantTypeError } from '../errors.js';
import { AuthorizationCodeGrant } from '../grants/authorization-code.grant.js';
import { RefreshTokenGrant } from '../grants/refresh-token.grant.js';
import { ClientCredentialsGrant } from '../grants/client-credentials.grant.js';
import { DeviceCodeGrant } from '../grants/device-code.grant.js';
import type { TokenGrant } from '../grants/grant.js';
import { ClientAuthenticator, readClientCredentials } from './client-authentication.js';
import { formBody, required } from './form-params.js';
import { RATE_LIMITS } from '../../http/rate-limits.js';

/** Success: 200 exactly, JSON, never cached (RFC 6749 §5.1; O2RS rejects anything else). */
export async function sendTokenJson(reply: FastifyReply, body: unknown): Promise<void> {
  await reply.status(200).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').type('application/json').send(body);
}

@Controller()
export class TokenController {
  private readonly grants: Map<string, TokenGrant>;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clients: ClientAuthenticator,
    code: AuthorizationCodeGrant,
    refresh: RefreshTokenGrant,
    credentials: ClientCredentialsGrant,
    device: DeviceCodeGrant,
  ) {
    this.grants = new Map([code, refresh, credentials, device].map((g) => [g.type, g]));
  }

  @Post('oauth2/token')
  @RouteConfig({ rateLimit: RATE_LIMITS.token })
  async token(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const params = formBody(req);
    const grantType = required(params, 'grant_type');
    const grant = this.grants.get(grantType);
    if (!grant) throw new UnsupportedGrantTypeError(`grant_type ${grantType} is not supported`);
    if (grantType === GRANT.deviceCode && !this.config.policy.device_code_grant) {
      throw new UnsupportedGrantTypeError('the device authorization grant is turned off on this server (policy.device_code_grant: false)');
    }
    const client = await this.clients.authenticate(readClientCredentials(req.headers.authorization, params));
    if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClientError(`this client is not registered for ${grantType}`);
    const refusal = clientRefusal(this.config.policy, client);
    if (refusal) throw new UnauthorizedClientError(refusal);
    await sendTokenJson(reply, await grant.exchange({ client, params, ip: req.ip }));
  }
}
