import { InvalidRequestError } from '../../errors.js';
import type { AuthorizationCheck } from './authorization-context.js';

/** RFC 6749 §3.1: request parameters MUST NOT be included more than once. */
export const checkDuplicates: AuthorizationCheck = (ctx) => {
  const repeated = Object.entries(ctx.params)
    .filter(([, v]) => Array.isArray(v))
    .map(([k]) => k);
  if (repeated.length) throw new InvalidRequestError(`parameter repeated: ${repeated.sort().join(', ')}`);
};
