import { InvalidRequestError } from '../../errors.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** `state` is echoed verbatim whatever its alphabet; only its size is bounded. */
export const checkState: AuthorizationCheck = (ctx) => {
  const state = param(ctx, 'state');
  ctx.state = state;
  ctx.request.state = state;
  if (state !== undefined && state.length > 2048) {
    ctx.state = undefined;
    throw new InvalidRequestError('state is too long');
  }
};
