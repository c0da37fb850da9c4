import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { secretsEqual } from '../../crypto/token-format.js';
import { InvalidClientError, OAuthError } from '../errors.js';
import { ClientAuthenticator, readClientCredentials } from '../token/client-authentication.js';
import { formParams, required } from '../token/form-params.js';
import { IntrospectionService } from './introspection.service.js';

/** A wrong shared secret: 401 access_denied, as MAS answers. */
class BadSharedSecretError extends OAuthError {
  override readonly status = 401;
  override readonly code = 'access_denied';
}

/**
 * POST /oauth2/introspect, the path Synapse hard-codes. Callers: Synapse with
 * `Authorization: Bearer <matrix.secret>` (matrix_authentication_service), or a static client with
 * `introspection: true` using client_secret_basic/post (legacy experimental_features.msc3861).
 */
@Controller()
export class IntrospectionController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clients: ClientAuthenticator,
    private readonly introspection: IntrospectionService,
  ) {}

  @Post('oauth2/introspect')
  async introspect(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const params = formParams(req.body);
    await this.authenticate(req.headers.authorization, params);
    // An empty token is a malformed one (inactive); an absent one is a malformed request.
    const token = (req.body as Record<string, unknown> | undefined)?.token === '' ? '' : required(params, 'token');
    const body = await this.introspection.introspect(token, params.token_type_hint, req.headers['x-mas-supports-device-id'] === '1');
    await reply.status(200).header('Cache-Control', 'no-store').type('application/json').send(body);
  }

  private async authenticate(authorization: string | undefined, params: Record<string, string>): Promise<void> {
    if (authorization !== undefined && /^bearer /i.test(authorization)) {
      if (!secretsEqual(authorization.slice(7).trim(), this.config.matrix.secret)) throw new BadSharedSecretError('invalid shared secret');
      return;
    }
    const creds = readClientCredentials(authorization, params);
    if (creds.method === 'none') throw new InvalidClientError('client authentication is required');
    const client = await this.clients.authenticate(creds);
    if (!client.introspection) throw new InvalidClientError('this client may not introspect tokens');
  }
}
