import { InvalidRequestError, UnauthorizedClientError, UnsupportedResponseTypeError } from '../../errors.js';
import { GRANT } from '../../clients/client.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** Only the authorization code flow, and only for clients registered for it. */
export const checkResponseType: AuthorizationCheck = (ctx) => {
  const type = param(ctx, 'response_type');
  if (type === undefined) throw new InvalidRequestError('response_type is required');
  if (type !== 'code') throw new UnsupportedResponseTypeError('only response_type=code is supported');
  if (!ctx.client!.grantTypes.includes(GRANT.authorizationCode)) throw new UnauthorizedClientError('this client is not registered for the authorization_code grant');
};
