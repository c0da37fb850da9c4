import { InvalidRequestError } from '../../errors.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** `query` (the default: matrix-rust-sdk sends none and reads only the query) or `fragment`. */
export const checkResponseMode: AuthorizationCheck = (ctx) => {
  const mode = param(ctx, 'response_mode');
  if (mode === undefined || mode === 'query' || mode === 'fragment') {
    ctx.responseMode = mode ?? 'query';
    ctx.request.responseMode = ctx.responseMode;
    return;
  }
  throw new InvalidRequestError(`response_mode ${mode} is not supported (query or fragment)`);
};
