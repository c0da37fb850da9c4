import { randomInt } from 'node:crypto';
import { parseScope, withDevice } from '../../scopes/scope.js';
import { InvalidScopeError } from '../../errors.js';
import { scopeRefusal } from '../../clients/client-policy.js';
import type { AuthorizationCheck } from './authorization-context.js';

/**
 * Scope rules of MSC2967 (scopes/scope.ts) and the scope policy (`policy.denied_scopes`,
 * `policy.dynamic_client_denied_scopes`, a static client's `allowed_scopes`), checked before the
 * user signs in. A missing device id is generated.
 */
export const checkScope: AuthorizationCheck = (ctx) => {
  const parsed = parseScope(withDevice(typeof ctx.params.scope === 'string' ? ctx.params.scope : undefined, randomInt));
  const refusal = scopeRefusal(ctx.config.policy, ctx.client!, parsed.tokens);
  if (refusal) throw new InvalidScopeError(refusal);
  ctx.request.scope = parsed.tokens;
  ctx.request.deviceId = parsed.deviceId;
};
