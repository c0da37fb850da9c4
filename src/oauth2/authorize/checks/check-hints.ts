import { InvalidRequestError } from '../../errors.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** nonce (echoed in the ID token), login_hint (MSC4198 `mxid:@user:server`) and the provider hint. */
export const checkHints: AuthorizationCheck = (ctx) => {
  const nonce = param(ctx, 'nonce');
  if (nonce !== undefined && nonce.length > 512) throw new InvalidRequestError('nonce is too long');
  ctx.request.nonce = nonce;
  const loginHint = param(ctx, 'login_hint');
  if (loginHint !== undefined && loginHint.length > 512) throw new InvalidRequestError('login_hint is too long');
  ctx.request.loginHint = loginHint;
  const provider = param(ctx, 'provider');
  if (provider !== undefined && /^[a-z0-9][a-z0-9_-]{0,63}$/.test(provider)) ctx.request.providerHint = provider;
};
