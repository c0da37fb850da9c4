import { InvalidRequestError } from '../../errors.js';
import { signUpPossible } from '../../discovery/discovery.document.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

const KNOWN = ['none', 'login', 'consent', 'create'];

/**
 * `prompt`: login | consent | create | none; unknown values are ignored. `none` cannot be combined
 * with another value (OIDC Core §3.1.2.1). `create` is dropped when sign-up is not advertised.
 * The login flow answers `none` with login_required when it would have to show a page.
 */
export const checkPrompt: AuthorizationCheck = (ctx) => {
  const raw = param(ctx, 'prompt');
  const values = [...new Set((raw ?? '').split(' ').filter((v) => KNOWN.includes(v)))];
  if (values.includes('none') && values.length > 1) throw new InvalidRequestError('prompt=none cannot be combined with other values');
  // Sign-up closed (no provider with registration: open): a plain sign-in, as if `create` had not been sent.
  ctx.request.prompt = signUpPossible(ctx.config) ? values : values.filter((v) => v !== 'create');
};
