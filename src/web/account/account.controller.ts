import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { IsNull } from 'typeorm';
import { z } from 'zod';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { HomeserverAdapter, HomeserverError } from '../../homeserver/homeserver.adapter.js';
import { LOGGER } from '../../http/logger.module.js';
import { AccountDeactivator } from '../../identity/account-deactivator.js';
import type { User } from '../../identity/identity.types.js';
import { lazyContract } from '../../identity/lazy-contract.js';
import { UpstreamLinksService } from '../../identity/upstream-links.service.js';
import { LoginPages } from '../../login/login.pages.js';
import { ConnectorRegistry } from '../../upstream/connector-registry.js';
import { acceptLanguages } from '../../oauth2/clients/client-display.js';
import { AuthorizationCompleter, SessionTerminator } from '../../oauth2/oauth2.contracts.js';
import { OAUTH2_PATHS } from '../../oauth2/oauth2.paths.js';
import { Database } from '../../storage/database.service.js';
import { CompatSessionEntity, OAuth2SessionEntity } from '../../storage/entities/index.js';
import { CsrfService } from '../csrf.service.js';
import { parseForm, singleValues } from '../form.js';
import { PageError } from '../page-error.js';
import { accountAction, DESTRUCTIVE, type AccountAction } from './account-actions.js';
import { brandIcon } from '../brand-icons.js';
import { AccountSessions, type SignedIn } from './account-session.js';

interface DeviceRow {
  sessionId: string;
  /** OAuth 2.0 session, or a legacy client's `/login` session (MSC3824 compatibility layer). */
  kind: 'oauth' | 'compat';
  deviceId: string | null;
  clientName: string;
  clientHost?: string;
  createdAt: string;
  lastActiveAt?: string;
  current: boolean;
}

const formatTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * The account page (`account_management_uri`, MSC4191): who is signed in, their sessions (devices)
 * with "sign out" for each, profile, cross-signing reset approval and deactivation. Signing in here
 * is a login machine of kind `account`; destructive actions are confirmed and need a recent sign-in.
 */
@Controller(OAUTH2_PATHS.account.replace(/\/$/, ''))
export class AccountController {
  private readonly deactivator: () => AccountDeactivator;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly sessions: AccountSessions,
    private readonly pages: LoginPages,
    private readonly csrf: CsrfService,
    private readonly completer: AuthorizationCompleter,
    private readonly terminator: SessionTerminator,
    private readonly links: UpstreamLinksService,
    private readonly connectors: ConnectorRegistry,
    private readonly db: Database,
    private readonly homeserver: HomeserverAdapter,
    moduleRef: ModuleRef,
  ) {
    this.deactivator = lazyContract(moduleRef, AccountDeactivator);
  }

  private url(path = ''): string {
    return `${this.config.http.public_base}${OAUTH2_PATHS.account}${path}`;
  }

  @Get('/')
  async index(@Query() rawQuery: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const q = singleValues(rawQuery);
    const action = accountAction(q.action);
    const deviceId = q.device_id?.slice(0, 255);
    // Where to come back after signing in: rebuilt from the known parameters only (no open redirect).
    const back = new URL(this.url());
    if (q.action) back.searchParams.set('action', action);
    if (deviceId) back.searchParams.set('device_id', deviceId);

    const me = await this.sessions.signedIn(req);
    if (!me) return this.sessions.startSignIn(req, reply, back.href, false);
    if (DESTRUCTIVE.has(action) && !this.sessions.isRecent(me)) return this.sessions.startSignIn(req, reply, back.href, true);

    const csrf = this.csrf.token(req, reply, this.sessions.csrfScope(me));
    const base = {
      title: 'Your account',
      user_id: this.mxid(me.user),
      display_name: me.user.displayName,
      csrf,
      nav: {
        sessions: this.url(),
        profile: `${this.url()}?action=org.matrix.profile`,
        sign_out: `${this.config.http.public_base}${OAUTH2_PATHS.endSession}`,
      },
    };
    switch (action) {
      case 'org.matrix.profile': {
        const linked = await this.links.forUser(me.user.id);
        const providers = this.connectors.list();
        const names = new Map(providers.map((p) => [p.id, p.name]));
        const notices: Record<string, string> = {
          linked: 'The sign-in method was added. You can now sign in with it.',
          already_linked: 'That sign-in method was already linked to your account.',
          removed: 'The sign-in method was removed.',
        };
        return this.pages.page(reply, 'account', 200, {
          ...base,
          view: 'profile',
          notice: q.done ? notices[q.done] : undefined,
          email: me.user.email,
          identities: linked.map((l) => ({
            provider: names.get(l.providerId) ?? l.providerId,
            since: formatTime(l.createdAt),
            ...(linked.length > 1 ? { remove_url: `${this.url('links/remove')}?link=${encodeURIComponent(l.id)}` } : {}),
          })),
          // Any provider that may link accounts and is not linked yet.
          addable: providers
            .filter((p) => p.registration !== 'disabled' && !linked.some((l) => l.providerId === p.id))
            .map((p) => ({ id: p.id, name: p.name, icon: brandIcon(p.brand, p.name) })),
          add_action: this.url('links/add'),
        });
      }
      case 'org.matrix.device_view':
      case 'org.matrix.device_delete': {
        const device = deviceId ? (await this.devices(req, me)).find((d) => d.deviceId === deviceId) : undefined;
        if (!device) {
          return this.pages.page(reply, 'account', 404, { ...base, view: 'notice', notice: 'This device is not signed in to your account (it may already have been signed out).' });
        }
        return this.pages.page(reply, 'account', 200, {
          ...base,
          view: action === 'org.matrix.device_view' ? 'device' : 'device_delete',
          device,
          delete_url: `${this.url()}?action=org.matrix.device_delete&device_id=${encodeURIComponent(device.deviceId ?? '')}`,
          end_action: this.url('sessions/end'),
        });
      }
      case 'org.matrix.cross_signing_reset':
        return this.pages.page(reply, 'account', 200, { ...base, view: 'cross_signing_reset', reset_action: this.url('cross-signing-reset') });
      case 'org.matrix.account_deactivate':
        return this.pages.page(reply, 'account', 200, { ...base, view: 'deactivate', deactivate_action: this.url('deactivate') });
      case 'org.matrix.devices_list':
        return this.pages.page(reply, 'account', 200, {
          ...base,
          view: 'sessions',
          notice: q.done === 'signed_out' ? 'The device was signed out.' : undefined,
          devices: await this.devices(req, me),
          end_action: this.url('sessions/end'),
        });
    }
  }

  /** "Sign out" of one session (device): ends it, revokes its tokens and removes the device from the homeserver. */
  @Post('sessions/end')
  async endSession(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const me = await this.sessions.requireSignedIn(req);
    const form = parseForm(z.object({ session_id: z.string().min(1).max(64), session_kind: z.enum(['oauth', 'compat']).default('oauth') }), req.body);
    const notFound = () => new PageError(404, 'Device not found', 'This device is not signed in to your account (it may already have been signed out).', { reason: 'session_not_found' });
    const where = { id: form.session_id, user_id: me.user.id, finished_at: IsNull() };
    if (form.session_kind === 'compat') {
      if (!(await this.db.manager.findOneBy(CompatSessionEntity, where))) throw notFound();
      await this.terminator.endCompatSession(form.session_id, 'user_logout');
    } else {
      if (!(await this.db.manager.findOneBy(OAuth2SessionEntity, where))) throw notFound();
      await this.terminator.endOAuthSession(form.session_id, 'user_logout');
    }
    this.redirect(reply, `${this.url()}?done=signed_out`);
  }

  /** Approves replacing the cross-signing keys without UIA for a while (the homeserver's `m.oauth` stage). */
  @Post('cross-signing-reset')
  async crossSigningReset(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const me = await this.sessions.requireSignedIn(req, true);
    parseForm(z.object({}), req.body);
    try {
      await this.homeserver.allowCrossSigningReset(me.user.localpart);
    } catch (err) {
      if (err instanceof HomeserverError && err.status === 404) {
        throw new PageError(409, 'Nothing to reset', 'Your account has no cross-signing identity yet, so there is nothing to reset. Set up encryption from your app instead.', { reason: 'no_master_key' });
      }
      this.logger.warn({ err }, 'allow_cross_signing_reset failed');
      throw new PageError(503, 'Temporarily unavailable', 'The homeserver could not be reached. Please try again in a moment.', { reason: 'homeserver_unavailable' });
    }
    await this.pages.page(reply, 'message', 200, {
      title: 'Reset approved',
      message: 'You can now reset your cryptographic identity from your app. Return to it and try again within the next 10 minutes.',
      link: { href: this.url(), label: 'Back to your account' },
    });
  }

  @Post('deactivate')
  async deactivate(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const me = await this.sessions.requireSignedIn(req, true);
    const { confirm, erase } = parseForm(z.object({ confirm: z.literal('yes'), erase: z.literal('yes').optional() }), req.body);
    void confirm;
    await this.deactivator().deactivate(me.user.id, { erase: erase === 'yes', actor: `user:${me.user.id}` });
    await this.pages.page(reply, 'message', 200, { title: 'Account deactivated', message: 'Your account has been deactivated. You have been signed out everywhere.' });
  }

  private mxid(user: User): string {
    return `@${user.localpart}:${this.config.matrix.homeserver}`;
  }

  /** The user's live sessions, OAuth and compat (legacy `/login` clients) alike, newest first. */
  private async devices(req: FastifyRequest, me: SignedIn): Promise<DeviceRow[]> {
    const where = { user_id: me.user.id, finished_at: IsNull() };
    const rows = await this.db.manager.find(OAuth2SessionEntity, { where, order: { created_at: 'DESC' } });
    const compat = await this.db.manager.find(CompatSessionEntity, { where, order: { created_at: 'DESC' } });
    const languages = acceptLanguages(req.headers['accept-language']);
    const out: (DeviceRow & { at: number })[] = [];
    for (const r of rows) {
      const client = await this.completer.clientDisplay(r.client_id, languages).catch(() => undefined);
      out.push({
        sessionId: r.id,
        kind: 'oauth',
        deviceId: r.device_id,
        clientName: client?.name ?? r.client_id,
        ...(client?.host ? { clientHost: client.host } : {}),
        createdAt: formatTime(r.created_at),
        ...(r.last_active_at ? { lastActiveAt: formatTime(r.last_active_at) } : {}),
        current: r.browser_session_id === me.session.id,
        at: r.created_at,
      });
    }
    for (const c of compat) {
      out.push({
        sessionId: c.id,
        kind: 'compat',
        deviceId: c.device_id,
        // The name the app gave its device at sign-in; the host its SSO login returned to.
        clientName: c.human_name ?? 'Matrix app',
        ...(c.redirect_host ? { clientHost: c.redirect_host } : {}),
        createdAt: formatTime(c.created_at),
        current: c.browser_session_id === me.session.id,
        at: c.created_at,
      });
    }
    return out.sort((a, b) => b.at - a.at).map(({ at: _at, ...d }) => d);
  }

  private redirect(reply: FastifyReply, location: string): void {
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', location).send();
  }
}
