import { SignInRefusedError } from './identity-errors.js';
import type { User } from './identity.types.js';

/** A locked or deactivated account: shown as a clear page, never as a generic failure. */
export class AccountUnavailableError extends SignInRefusedError {
  constructor(readonly reason: 'locked' | 'deactivated') {
    super(reason === 'locked' ? 'account_locked' : 'account_deactivated', {}, { reason: `account_${reason}` });
    this.name = 'AccountUnavailableError';
  }
}

/** Throws AccountUnavailableError unless the user may sign in. */
export function assertCanSignIn(user: User): void {
  if (user.deactivatedAt !== null) throw new AccountUnavailableError('deactivated');
  if (user.lockedAt !== null) throw new AccountUnavailableError('locked');
}
