import type { FastifyRequest } from 'fastify';
import { isLoginBound } from '../web/cookies.js';
import { PageError } from '../web/page-error.js';

/** Only the browser that started a login may continue it (the signed login cookie lists it). */
export function requireBoundLogin(request: FastifyRequest, loginId: string): void {
  if (!isLoginBound(request, loginId)) {
    throw new PageError(403, 'error.title.sign_in_not_found', 'error.login_not_bound', {
      reason: 'login_not_bound',
    });
  }
}
