import { PageError } from '../web/page-error.js';
import type { User } from './identity.types.js';

/** A locked or deactivated account: shown as a clear page, never as a generic failure. */
export class AccountUnavailableError extends PageError {
  constructor(readonly reason: 'locked' | 'deactivated') {
    super(
      403,
      reason === 'locked' ? 'error.title.account_locked' : 'error.title.account_deactivated',
      reason === 'locked' ? 'error.account_locked' : 'error.account_deactivated',
      { reason: `account_${reason}` },
    );
    this.name = 'AccountUnavailableError';
  }
}

/** Throws AccountUnavailableError unless the user may sign in. */
export function assertCanSignIn(user: User): void {
  if (user.deactivatedAt !== null) throw new AccountUnavailableError('deactivated');
  if (user.lockedAt !== null) throw new AccountUnavailableError('locked');
}
