import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { HomeserverAdapter, HomeserverError } from '../homeserver/homeserver.adapter.js';
import { LOGGER } from '../http/logger.module.js';
import { AccountDeactivator } from '../identity/account-deactivator.js';
import type { User } from '../identity/identity.types.js';
import { lazyContract } from '../identity/lazy-contract.js';
import { UpstreamLinksService } from '../identity/upstream-links.service.js';
import { LoginPages } from '../login/login.pages.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { AuthorizationCompleter, SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';
import { DeviceSessionRepository } from '../storage/repositories/device-session.repository.js';
import { CsrfService } from '../web/csrf.service.js';
import { parseForm, singleValues } from '../web/form.js';
import { PageError } from '../web/page-error.js';
import { msg, type MessageKey } from '../web/i18n/message.js';
import { PageRenderer } from '../web/page-renderer.js';
import { accountAction, DESTRUCTIVE } from './account-actions.js';
import { brandIcon } from '../web/brand-icons.js';
import { AccountSessions, type SignedIn } from './account-session.js';

interface DeviceRow {
  sessionId: string;
  /** OAuth 2.0 session, or a legacy client's `/login` session (MSC3824 compatibility layer). */
  kind: 'oauth' | 'compat';
  deviceId: string | null;
  clientName: string;
  clientHost?: string;
  /** Timestamps (ms): the page shows them in its language (`datetime` filter). */
  createdAt: number;
  lastActiveAt?: number;
  current: boolean;
}

/** How long the homeserver accepts a cross-signing reset after it is approved here (Synapse: 10 minutes). */
const CROSS_SIGNING_RESET_MINUTES = 10;

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
    private readonly renderer: PageRenderer,
    private readonly csrf: CsrfService,
    private readonly completer: AuthorizationCompleter,
    private readonly terminator: SessionTerminator,
    private readonly links: UpstreamLinksService,
    private readonly connectors: ConnectorRegistry,
    private readonly deviceSessions: DeviceSessionRepository,
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
        const notices: Record<string, MessageKey> = {
          linked: 'account.method_added_notice',
          already_linked: 'account.method_already_notice',
          removed: 'account.method_removed_notice',
        };
        return this.renderer.send(reply, 'account', 200, {
          ...base,
          view: 'profile',
          notice: q.done ? notices[q.done] : undefined,
          email: me.user.email,
          identities: linked.map((l) => ({
            provider: names.get(l.providerId) ?? l.providerId,
            since: l.createdAt,
            ...(linked.length > 1 ? { remove_url: `${this.url('links/remove')}?link=${encodeURIComponent(l.id)}` } : {}),
          })),
          // Any provider that may link accounts and is not linked yet.
          addable: providers.filter((p) => p.registration !== 'disabled' && !linked.some((l) => l.providerId === p.id)).map((p) => ({ id: p.id, name: p.name, icon: brandIcon(p.brand) })),
          add_action: this.url('links/add'),
        });
      }
      case 'org.matrix.device_view':
      case 'org.matrix.device_delete': {
        const device = deviceId ? (await this.devices(req, me)).find((d) => d.deviceId === deviceId) : undefined;
        if (!device) {
          return this.renderer.send(reply, 'account', 404, { ...base, view: 'notice', notice: msg('error.device_not_found') });
        }
        return this.renderer.send(reply, 'account', 200, {
          ...base,
          view: action === 'org.matrix.device_view' ? 'device' : 'device_delete',
          device,
          delete_url: `${this.url()}?action=org.matrix.device_delete&device_id=${encodeURIComponent(device.deviceId ?? '')}`,
          end_action: this.url('sessions/end'),
        });
      }
      case 'org.matrix.cross_signing_reset':
        return this.renderer.send(reply, 'account', 200, { ...base, view: 'cross_signing_reset', reset_action: this.url('cross-signing-reset') });
      case 'org.matrix.account_deactivate':
        return this.renderer.send(reply, 'account', 200, { ...base, view: 'deactivate', deactivate_action: this.url('deactivate') });
      case 'org.matrix.devices_list':
        return this.renderer.send(reply, 'account', 200, {
          ...base,
          view: 'sessions',
          notice: q.done === 'signed_out' ? msg('account.signed_out_notice') : undefined,
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
    const notFound = () => new PageError(404, 'error.title.device_not_found', 'error.device_not_found', { reason: 'session_not_found' });
    if (!(await this.deviceSessions.isLiveOf(form.session_kind, form.session_id, me.user.id))) throw notFound();
    if (form.session_kind === 'compat') await this.terminator.endCompatSession(form.session_id, 'user_logout');
    else await this.terminator.endOAuthSession(form.session_id, 'user_logout');
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
        throw new PageError(409, 'error.title.nothing_to_reset', 'error.nothing_to_reset', { reason: 'no_master_key' });
      }
      this.logger.warn({ err }, 'allow_cross_signing_reset failed');
      throw new PageError(503, 'error.title.temporarily_unavailable', 'error.homeserver_unreachable', { reason: 'homeserver_unavailable' });
    }
    await this.renderer.send(reply, 'message', 200, {
      title: msg('done.reset_approved_title'),
      message: msg('done.reset_approved', { minutes: CROSS_SIGNING_RESET_MINUTES }),
      link: { href: this.url(), label: msg('common.back_to_account') },
    });
  }

  @Post('deactivate')
  async deactivate(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const me = await this.sessions.requireSignedIn(req, true);
    const { confirm, erase } = parseForm(z.object({ confirm: z.literal('yes'), erase: z.literal('yes').optional() }), req.body);
    void confirm;
    await this.deactivator().deactivate(me.user.id, { erase: erase === 'yes', actor: `user:${me.user.id}` });
    await this.renderer.send(reply, 'message', 200, { title: msg('done.deactivated_title'), message: msg('done.deactivated') });
  }

  private mxid(user: User): string {
    return `@${user.localpart}:${this.config.matrix.homeserver}`;
  }

  /** The user's live sessions, OAuth and compat (legacy `/login` clients) alike, newest first. */
  private async devices(req: FastifyRequest, me: SignedIn): Promise<DeviceRow[]> {
    const languages = this.renderer.clientLanguages(req);
    const out: DeviceRow[] = [];
    for (const s of await this.deviceSessions.liveOf(me.user.id)) {
      if (s.kind === 'oauth') {
        const client = await this.completer.clientDisplay(s.clientId!, languages).catch(() => undefined);
        out.push({
          sessionId: s.id,
          kind: 'oauth',
          deviceId: s.deviceId,
          clientName: client?.name ?? s.clientId!,
          ...(client?.host ? { clientHost: client.host } : {}),
          createdAt: s.createdAt,
          ...(s.lastActiveAt ? { lastActiveAt: s.lastActiveAt } : {}),
          current: s.browserSessionId === me.session.id,
        });
      } else {
        out.push({
          sessionId: s.id,
          kind: 'compat',
          deviceId: s.deviceId,
          // The name the app gave its device at sign-in; the host its SSO login returned to.
          clientName: s.humanName ?? this.renderer.text(req, 'account.unnamed_app'),
          ...(s.redirectHost ? { clientHost: s.redirectHost } : {}),
          createdAt: s.createdAt,
          current: s.browserSessionId === me.session.id,
        });
      }
    }
    return out;
  }

  private redirect(reply: FastifyReply, location: string): void {
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', location).send();
  }
}
