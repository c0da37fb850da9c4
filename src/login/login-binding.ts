import type { FastifyRequest } from 'fastify';
import { isLoginBound } from '../web/cookies.js';
import { PageError } from '../web/page-error.js';

/** Only the browser that started a login may continue it (the signed login cookie lists it). */
export function requireBoundLogin(request: FastifyRequest, loginId: string): void {
  if (!isLoginBound(request, loginId)) {
    throw new PageError(403, 'Sign-in not found in this browser', 'This sign-in was started in another browser, or your cookies were cleared. Return to the app and start signing in again.', {
      reason: 'login_not_bound',
    });
  }
}
