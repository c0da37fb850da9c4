import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { BrowserSessionsService } from '../identity/browser-sessions.service.js';
import { UpstreamLinksService } from '../identity/upstream-links.service.js';
import { UsersService } from '../identity/users.service.js';
import type { AuthorizationRequest, DeviceAuthorizationRef } from '../oauth2/authorize/authorization-request.js';
import { readSignedCookie, SESSION_COOKIE, signedOutSinceLastSignIn } from '../web/cookies.js';
import { promptOf, type LoginInput, type LoginTarget } from './login.machine.js';
import { LoginStore, type LoginSnapshot } from './login.store.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';

/**
 * Starts logins: finds the browser's current session (reused unless prompt=login|create), and the
 * provider to use without the picker (the only one, `?provider=`, or the one a `login_hint`
 * account is linked to).
 */
@Injectable()
export class LoginService {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly store: LoginStore,
    private readonly connectors: ConnectorRegistry,
    private readonly sessions: BrowserSessionsService,
    private readonly users: UsersService,
    private readonly links: UpstreamLinksService,
  ) {}

  startAuthorization(request: AuthorizationRequest, http: FastifyRequest, rawProvider?: string): Promise<LoginSnapshot> {
    return this.start({ kind: 'authorization', request }, http, request.providerHint ?? rawProvider, request.loginHint);
  }

  startDevice(device: DeviceAuthorizationRef, http: FastifyRequest): Promise<LoginSnapshot> {
    return this.start({ kind: 'device', device }, http);
  }

  startAccount(returnTo: string, http: FastifyRequest, reauthenticate: boolean): Promise<LoginSnapshot> {
    return this.start({ kind: 'account', returnTo, ...(reauthenticate ? { prompt: ['login'] } : {}) }, http);
  }

  /**
   * "Add a sign-in method" (account page): a fresh sign-in with `providerId` whose identity is then
   * linked to the signed-in account (`userId`, in browser session `browserSessionId`).
   */
  startLink(target: { userId: string; browserSessionId: string; returnTo: string }, providerId: string, http: FastifyRequest): Promise<LoginSnapshot> {
    return this.start({ kind: 'link', ...target }, http, providerId);
  }

  /**
   * A legacy client's SSO login (MSC3824 compatibility layer). `providerHint`: the provider the
   * client chose (`/login/sso/redirect/{idp}`), skipping the picker; `ttlSeconds`: what is left of
   * the 30 minutes the whole login may take.
   */
  startCompatSso(target: Extract<LoginTarget, { kind: 'compat_sso' }>, http: FastifyRequest, providerHint: string | undefined, ttlSeconds: number): Promise<LoginSnapshot> {
    return this.start(target, http, providerHint, undefined, ttlSeconds);
  }

  /**
   * An IdP-initiated sign-in (the connector accepted an unsolicited callback): a login to the
   * account pages with this provider, re-authenticating even if the browser has a session.
   */
  startUnsolicited(providerId: string, http: FastifyRequest): Promise<LoginSnapshot> {
    return this.start({ kind: 'account', returnTo: `${this.config.http.public_base}${OAUTH2_PATHS.account}`, prompt: ['login'] }, http, providerId, undefined, undefined, true);
  }

  /** The browser's usable session at Causeway (cookie → not ended, not expired, account still active). */
  async currentSession(http: FastifyRequest): Promise<LoginInput['session']> {
    const id = readSignedCookie(http, SESSION_COOKIE);
    if (!id) return undefined;
    const session = await this.sessions.findActive(id);
    if (!session) return undefined;
    const user = await this.users.findById(session.userId);
    if (!user || user.lockedAt !== null || user.deactivatedAt !== null) return undefined;
    return { user: { id: user.id, localpart: user.localpart }, browserSession: { id: session.id, authenticatedAt: session.authenticatedAt } };
  }

  private async start(target: LoginTarget, http: FastifyRequest, providerHint?: string, loginHint?: string, ttlSeconds?: number, unsolicited = false): Promise<LoginSnapshot> {
    const providers = this.connectors.list();
    // A sign-up offers the providers that may create accounts (`registration: open`), if there are any.
    const open = providers.filter((p) => p.registration === 'open');
    const signUp = promptOf(target).includes('create') && open.length > 0;
    const providerIds = (signUp ? open : providers).map((p) => p.id);
    const userAgent = http.headers['user-agent'];
    const session = await this.currentSession(http);
    return this.store.create({
      target,
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      providerIds,
      ...(open.length === 0 ? { signUpClosed: true } : {}),
      preselectedProvider: await this.preselect(providerIds, providerHint, loginHint),
      session,
      ...(unsolicited ? { unsolicited: session ? { currentLocalpart: session.user.localpart } : {} } : {}),
      ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, 512) } : {}),
      ...(signedOutSinceLastSignIn(http) ? { loggedOut: true } : {}),
      ip: http.ip,
    });
  }

  private async preselect(providerIds: string[], providerHint?: string, loginHint?: string): Promise<string | undefined> {
    if (providerIds.length === 1) return providerIds[0];
    if (providerHint && providerIds.includes(providerHint)) return providerHint;
    // login_hint=mxid:@alice:server (MSC4198): the provider alice signs in with, if there is exactly one.
    const m = /^mxid:@([^:]+):(.+)$/.exec(loginHint ?? '');
    if (m && m[2] === this.config.matrix.homeserver) {
      const user = await this.users.findByLocalpart(m[1]!);
      if (user) {
        const linked = [...new Set((await this.links.forUser(user.id)).map((l) => l.providerId))].filter((p) => providerIds.includes(p));
        if (linked.length === 1) return linked[0];
      }
    }
    return undefined;
  }
}
