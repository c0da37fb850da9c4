import { randomInt } from 'node:crypto';
import { parseScope, withDevice } from '../../scopes/scope.js';
import type { AuthorizationCheck } from './authorization-context.js';

/** Scope rules of MSC2967 (scopes/scope.ts), checked before the user signs in. A missing device id is generated. */
export const checkScope: AuthorizationCheck = (ctx) => {
  const parsed = parseScope(withDevice(typeof ctx.params.scope === 'string' ? ctx.params.scope : undefined, randomInt));
  ctx.request.scope = parsed.tokens;
  ctx.request.deviceId = parsed.deviceId;
};
