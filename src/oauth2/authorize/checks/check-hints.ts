import { InvalidRequestError } from '../../errors.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** nonce (echoed in the ID token), login_hint (MSC4198 `mxid:@user:server`), acr_values and the provider hint. */
export const checkHints: AuthorizationCheck = (ctx) => {
  const nonce = param(ctx, 'nonce');
  if (nonce !== undefined && nonce.length > 512) throw new InvalidRequestError('nonce is too long');
  ctx.request.nonce = nonce;
  const loginHint = param(ctx, 'login_hint');
  if (loginHint !== undefined && loginHint.length > 512) throw new InvalidRequestError('login_hint is too long');
  ctx.request.loginHint = loginHint;
  // Passed on only through a provider's templated authorization_params (e.g. acr_values for step-up).
  const acrValues = param(ctx, 'acr_values');
  if (acrValues !== undefined && (acrValues.length > 512 || !/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(acrValues))) {
    throw new InvalidRequestError('acr_values is not a list of ACR values');
  }
  if (acrValues !== undefined) ctx.request.acrValues = acrValues;
  const provider = param(ctx, 'provider');
  if (provider !== undefined && /^[a-z0-9][a-z0-9_-]{0,63}$/.test(provider)) ctx.request.providerHint = provider;
};
