import { Injectable } from '@nestjs/common';
import { DeviceProvisioner } from '../oauth2/homeserver/device-provisioner.js';
import type { BrowserSessionRef, SignedInUser } from '../oauth2/oauth2.contracts.js';
import { CompatSsoCompleter } from '../login/compat-login.contract.js';
import { LoginTokens } from './login-tokens.js';
import { redirectTarget, withLoginToken } from '../login/sso-redirect-url.js';

/**
 * The end of a legacy SSO login, once the user pressed Continue on the confirmation page: the
 * homeserver learns the user now (a first sign-in may have just created the account; `/login`
 * will only add the device), then the browser goes back to the client with a login token.
 */
@Injectable()
export class CompatSsoCompleterService extends CompatSsoCompleter {
  constructor(
    private readonly provisioner: DeviceProvisioner,
    private readonly tokens: LoginTokens,
  ) {
    super();
  }

  async complete(redirectUrl: string, user: SignedInUser, session: BrowserSessionRef): Promise<string> {
    await this.provisioner.ensure(user.localpart, undefined);
    const token = await this.tokens.issue({ userId: user.userId, browserSessionId: session.id, redirectHost: redirectTarget(redirectUrl) });
    return withLoginToken(redirectUrl, token);
  }
}
