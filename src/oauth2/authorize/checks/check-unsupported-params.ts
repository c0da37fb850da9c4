import { RegistrationNotSupportedError, RequestNotSupportedError, RequestUriNotSupportedError } from '../../errors.js';
import { param, type AuthorizationCheck } from './authorization-context.js';

/** Request objects and per-request registration are not supported (as in MAS). */
export const checkUnsupportedParams: AuthorizationCheck = (ctx) => {
  if (param(ctx, 'request') !== undefined) throw new RequestNotSupportedError('request objects are not supported');
  if (param(ctx, 'request_uri') !== undefined) throw new RequestUriNotSupportedError('request_uri is not supported');
  if (param(ctx, 'registration') !== undefined) throw new RegistrationNotSupportedError('use dynamic client registration instead');
};
