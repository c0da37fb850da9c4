import { InvalidRequestError } from '../../errors.js';
import { isValidCodeChallenge } from '../pkce.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** PKCE is mandatory and S256 only (stricter than MAS: no plain, no PKCE-less codes). */
export const checkPkce: AuthorizationCheck = (ctx) => {
  const method = param(ctx, 'code_challenge_method');
  const challenge = param(ctx, 'code_challenge');
  if (challenge === undefined) throw new InvalidRequestError('code_challenge is required (PKCE with S256)');
  if (method !== 'S256') throw new InvalidRequestError('code_challenge_method must be S256');
  if (!isValidCodeChallenge(challenge)) throw new InvalidRequestError('code_challenge must be 43 base64url characters');
  ctx.request.codeChallenge = challenge;
};
