import type { BrowserSessionRef, SignedInUser } from '../oauth2/oauth2.contracts.js';

/**
 * What the compatibility layer (MSC3824, legacy `/login`) offers the login flow: the end of a
 * legacy client's SSO login. Implemented by CompatModule; the login module resolves it lazily.
 */
export abstract class CompatSsoCompleter {
  /**
   * The user confirmed on the compat SSO page: makes sure the homeserver knows the user, issues a
   * single-use login token (valid 30 s) and returns `redirectUrl` with `loginToken` appended.
   */
  abstract complete(redirectUrl: string, user: SignedInUser, session: BrowserSessionRef): Promise<string>;
}
