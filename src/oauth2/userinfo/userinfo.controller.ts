import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UserRepository } from '../../storage/repositories/user.repository.js';
import { InsufficientScopeError, InvalidTokenError, type OAuthError } from '../errors.js';
import { IntrospectionService } from '../introspect/introspection.service.js';

/** OIDC Core §5.3 with a Bearer access token granting `openid` (RFC 6750 errors + WWW-Authenticate). */
@Controller()
export class UserinfoController {
  constructor(
    private readonly introspection: IntrospectionService,
    private readonly users: UserRepository,
  ) {}

  @Get('oauth2/userinfo')
  get(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.userinfo(req, reply);
  }

  @Post('oauth2/userinfo')
  post(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.userinfo(req, reply);
  }

  private async userinfo(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const auth = req.headers.authorization;
    const token = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (!token) return challenge(reply, new InvalidTokenError('a Bearer access token is required'), false);
    const row = await this.introspection.liveAccessToken(token);
    if (!row) return challenge(reply, new InvalidTokenError('the access token is not active'));
    if (!row.user_id || !row.scope.split(' ').includes('openid')) return challenge(reply, new InsufficientScopeError('the access token does not grant openid'));
    const user = await this.users.findById(row.user_id);
    await reply
      .status(200)
      .header('Cache-Control', 'no-store')
      .type('application/json')
      .send({
        sub: row.user_id,
        preferred_username: row.localpart,
        ...(user?.displayName ? { name: user.displayName } : {}),
        ...(user?.email ? { email: user.email } : {}),
      });
  }
}

async function challenge(reply: FastifyReply, error: OAuthError, withError = true): Promise<void> {
  const header = withError ? `Bearer error="${error.code}", error_description="${error.description}"` : 'Bearer';
  await reply.status(error.status).header('WWW-Authenticate', header).header('Cache-Control', 'no-store').type('application/json').send(error.toJSON());
}
