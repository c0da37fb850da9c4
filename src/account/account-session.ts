import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock, SystemClock } from '../clock/clock.js';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { User } from '../identity/identity.types.js';
import { UsersService } from '../identity/users.service.js';
import { LoginPages } from '../login/login.pages.js';
import { LoginService } from '../login/login.service.js';
import { bindLogin } from '../web/cookies.js';
import { CsrfService } from '../web/csrf.service.js';
import { PageError } from '../web/page-error.js';

/** A destructive or security-sensitive action needs a sign-in at most this old (MSC4191 §Security: links are forgeable). */
export const RECENT_AUTH_MS = 10 * 60_000;

export interface SignedIn {
  user: User;
  session: { id: string; authenticatedAt: number };
}

/** Who is signed in on the account pages, their forms' CSRF scope, and how to (re-)authenticate them. */
@Injectable()
export class AccountSessions {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly logins: LoginService,
    private readonly pages: LoginPages,
    private readonly csrf: CsrfService,
    private readonly users: UsersService,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  csrfScope(me: SignedIn): string {
    return `account:${me.session.id}`;
  }

  isRecent(me: SignedIn): boolean {
    return this.clock.now() - me.session.authenticatedAt <= RECENT_AUTH_MS;
  }

  async signedIn(req: FastifyRequest): Promise<SignedIn | undefined> {
    const s = await this.logins.currentSession(req);
    if (!s) return undefined;
    const user = await this.users.findById(s.user.id);
    return user ? { user, session: s.browserSession } : undefined;
  }

  /** For form posts: signed in, a valid CSRF token for this session, and (if asked) a recent sign-in. */
  async requireSignedIn(req: FastifyRequest, recent = false): Promise<SignedIn> {
    const me = await this.signedIn(req);
    if (!me) throw new PageError(403, 'error.title.signed_out', 'error.no_session', { reason: 'no_session' });
    this.csrf.verify(req, this.csrfScope(me));
    if (recent && !this.isRecent(me)) {
      throw new PageError(403, 'error.title.sign_in_again', 'error.stale_auth', { reason: 'stale_auth' });
    }
    return me;
  }

  /** Sends the browser through a sign-in (a fresh one with `reauthenticate`) that returns to `returnTo`. */
  async startSignIn(req: FastifyRequest, reply: FastifyReply, returnTo: string, reauthenticate: boolean): Promise<void> {
    const snap = await this.logins.startAccount(returnTo, req, reauthenticate);
    bindLogin(req, reply, this.config, snap.context.loginId);
    await this.pages.respond(req, reply, snap, true);
  }
}
