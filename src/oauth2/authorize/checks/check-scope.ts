import { parseScope } from '../../scopes/scope.js';
import type { AuthorizationCheck } from './authorization-context.js';

/** Scope rules of MSC2967 (scopes/scope.ts), checked before the user signs in. */
export const checkScope: AuthorizationCheck = (ctx) => {
  const parsed = parseScope(typeof ctx.params.scope === 'string' ? ctx.params.scope : undefined);
  ctx.request.scope = parsed.tokens;
  ctx.request.deviceId = parsed.deviceId;
};
