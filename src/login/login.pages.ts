import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { AccessDeniedError, ConsentRequiredError, InteractionRequiredError, LoginRequiredError, type OAuthError } from '../oauth2/errors.js';
import { AuthorizationCompleter, type ClientDisplay } from '../oauth2/oauth2.contracts.js';
import { brandIcon } from '../web/brand-icons.js';
import { setSessionCookie } from '../web/cookies.js';
import { CsrfService } from '../web/csrf.service.js';
import { PageRenderer } from '../web/page-renderer.js';
import { isMsg, msg, type Msg } from '../web/i18n/message.js';
import { deviceIdOf, describeScopes } from '../web/scope-descriptions.js';
import { statePath, type LoginContext, type LoginFailure, type LoginTarget } from './login.machine.js';
import type { LoginSnapshot } from './login.store.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { redirectTarget } from './sso-redirect-url.js';

/** Path of a login's page (relative to the public base). */
export const loginPath = (loginId: string, action?: 'provider' | 'register' | 'terms' | 'consent' | 'confirm' | 'cancel') => `login/${loginId}${action ? `/${action}` : ''}`;

const OAUTH_FAILURES: Record<Extract<LoginFailure, { kind: 'oauth' }>['code'], new (d?: string) => OAuthError> = {
  access_denied: AccessDeniedError,
  login_required: LoginRequiredError,
  consent_required: ConsentRequiredError,
  interaction_required: InteractionRequiredError,
};

/**
 * Turns a login's state into the HTTP answer: after an action, redirects (upstream, the client,
 * or back to the login page: POST/redirect/GET); on GET, the page of the state the login waits in.
 * Every page is server-rendered, works without JavaScript and carries PAGE_HEADERS.
 */
@Injectable()
export class LoginPages {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly renderer: PageRenderer,
    private readonly csrf: CsrfService,
    private readonly connectors: ConnectorRegistry,
    private readonly completer: AuthorizationCompleter,
  ) {}

  private mxid(localpart: string): string {
    return `@${localpart}:${this.config.matrix.homeserver}`;
  }

  private url(path: string): string {
    return `${this.config.http.public_base}${path}`;
  }

  /** The request is bound to this login (checked by the caller). */
  async respond(request: FastifyRequest, reply: FastifyReply, snap: LoginSnapshot, afterAction: boolean): Promise<void> {
    const ctx = snap.context;
    // Only on the answer to the request that started the session (LoginStore never persists the flag), always a
    // request of the browser bound to this login (every caller checks the binding first).
    if (ctx.newBrowserSession && ctx.browserSession) setSessionCookie(reply, this.config, ctx.browserSession.id);
    const state = statePath(snap.value);

    if (state === 'completed') {
      if (ctx.redirectUrl) return this.redirect(reply, ctx.redirectUrl);
      return this.renderCompleted(reply, ctx);
    }
    if (state === 'failed') return this.renderFailed(request, reply, ctx);
    if (state === 'expired') {
      return this.page(reply, 'error', 400, {
        title: msg('error.title.sign_in_expired'),
        message: msg('error.login_expired'),
        ...this.backToClient(ctx.target, msg('common.return_to_app')),
      });
    }
    if (state === 'awaitingCallback.waiting' && afterAction && ctx.upstream && 'url' in ctx.upstream.redirect) {
      return this.redirect(reply, ctx.upstream.redirect.url);
    }
    if (afterAction && state !== 'awaitingCallback.waiting') return this.redirect(reply, this.url(loginPath(ctx.loginId)));

    const csrf = this.csrf.token(request, reply, ctx.loginId);
    const common = { csrf, cancel_action: this.url(loginPath(ctx.loginId, 'cancel')) };
    switch (state) {
      case 'selectingProvider':
        return this.page(reply, 'picker', 200, {
          ...common,
          create: ctx.prompt.includes('create'),
          client: await this.clientOf(request, ctx.target),
          action: this.url(loginPath(ctx.loginId, 'provider')),
          providers: this.providerButtons(ctx.providerIds),
        });
      case 'awaitingCallback.waiting': {
        const provider = this.connectors.list().find((p) => p.id === ctx.providerId);
        const redirect = ctx.upstream!.redirect;
        return this.page(reply, 'upstream-continue', 200, {
          ...common,
          provider: { name: provider?.name ?? ctx.providerId },
          ...('url' in redirect ? { redirect_url: redirect.url } : { form_post: { url: redirect.formPost.url, fields: Object.entries(redirect.formPost.fields).map(([name, value]) => ({ name, value })) } }),
          others: this.providerButtons(ctx.pendingLink?.providerIds ?? ctx.providerIds).filter((p) => p.id !== ctx.providerId),
          switch_action: this.url(loginPath(ctx.loginId, 'provider')),
        });
      }
      case 'registering.choosing': {
        const reg = ctx.registration ?? {};
        const provider = this.connectors.list().find((p) => p.id === ctx.providerId);
        const askDisplayname = ctx.mapped?.displayname.action === 'suggest';
        return this.page(reply, 'register', reg.error ? 400 : 200, {
          ...common,
          provider_name: provider?.name ?? ctx.providerId,
          server_name: this.config.matrix.homeserver,
          fixed: reg.fixed === true,
          suggestion: reg.suggestion,
          value: reg.value ?? reg.suggestion ?? '',
          // A message from before messages were keys (a login persisted by an older version): no text.
          error: isMsg(reg.error) ? reg.error : undefined,
          ask_displayname: askDisplayname,
          displayname: reg.displayname ?? ctx.mapped?.displayname.value ?? '',
          action: this.url(loginPath(ctx.loginId, 'register')),
        });
      }
      case 'terms.asking':
        return this.page(reply, 'terms', 200, {
          ...common,
          tos_uri: this.config.branding.tos_uri,
          changed: ctx.terms?.changed === true,
          action: this.url(loginPath(ctx.loginId, 'terms')),
        });
      case 'consenting.asking':
        return this.renderConsent(request, reply, ctx, csrf);
      case 'confirmingLink.choosing': {
        const pending = ctx.pendingLink!;
        const provider = this.connectors.list().find((p) => p.id === pending.providerId);
        return this.page(reply, 'link-confirm', 200, {
          ...common,
          user_id: `@${pending.user.localpart}:${this.config.matrix.homeserver}`,
          provider_name: provider?.name ?? pending.providerId,
          providers: this.providerButtons(pending.providerIds),
          action: this.url(loginPath(ctx.loginId, 'provider')),
        });
      }
      case 'confirming': {
        const provider = this.connectors.list().find((p) => p.id === ctx.providerId);
        const current = ctx.unsolicited?.currentLocalpart;
        return this.page(reply, 'unsolicited-confirm', 200, {
          csrf,
          provider_name: provider?.name ?? ctx.providerId,
          user_id: this.mxid(ctx.user!.localpart),
          ...(current && current !== ctx.user!.localpart ? { current_user_id: this.mxid(current) } : {}),
          action: this.url(loginPath(ctx.loginId, 'confirm')),
        });
      }
      default:
        // A busy state is never persisted; anything else has no page of its own.
        return this.page(reply, 'error', 409, { title: msg('error.title.please_wait'), message: msg('error.login_busy') });
    }
  }

  private async renderConsent(request: FastifyRequest, reply: FastifyReply, ctx: LoginContext, csrf: string): Promise<void> {
    const target = ctx.target;
    if (target.kind === 'compat_sso') {
      // A legacy client's SSO login: which account signs in where, before the login token leaves (phishing defence).
      const where = redirectTarget(target.redirectUrl);
      return this.page(reply, 'compat-confirm', 200, {
        csrf,
        target: where,
        user_id: `@${ctx.user!.localpart}:${this.config.matrix.homeserver}`,
        action: this.url(loginPath(ctx.loginId, 'consent')),
      });
    }
    const scope = target.kind === 'authorization' ? target.request.scope : target.kind === 'device' ? target.device.scope : [];
    const device = target.kind === 'device';
    return this.page(reply, 'consent', 200, {
      csrf,
      device,
      client: await this.clientOf(request, target),
      user_id: `@${ctx.user!.localpart}:${this.config.matrix.homeserver}`,
      scopes: describeScopes(scope),
      device_id: (target.kind === 'authorization' ? target.request.deviceId : target.kind === 'device' ? target.device.deviceId : undefined) ?? deviceIdOf(scope),
      user_code: device ? target.device.userCode : undefined,
      action: this.url(loginPath(ctx.loginId, 'consent')),
    });
  }

  private renderCompleted(reply: FastifyReply, ctx: LoginContext): Promise<void> {
    if (ctx.target.kind === 'device') {
      return this.page(reply, 'message', 200, { title: msg('done.device_connected_title'), message: msg('done.device_connected') });
    }
    return this.page(reply, 'message', 200, { title: msg('done.signed_in_title'), message: msg('done.signed_in') });
  }

  private async renderFailed(request: FastifyRequest, reply: FastifyReply, ctx: LoginContext): Promise<void> {
    const f: LoginFailure = ctx.failure ?? { kind: 'page', status: 500, title: msg('error.title.something_went_wrong'), message: msg('error.sign_in_not_completed') };
    if (f.kind === 'oauth') {
      if (ctx.target.kind === 'authorization') {
        return this.redirect(reply, this.completer.errorRedirect(ctx.target.request, new OAUTH_FAILURES[f.code](f.description)));
      }
      if (ctx.target.kind === 'device') {
        return this.page(reply, 'message', 200, { title: msg('done.request_denied_title'), message: msg('done.request_denied') });
      }
      if (ctx.target.kind === 'compat_sso') {
        return this.page(reply, 'message', 200, { title: msg('done.sign_in_cancelled_title'), message: msg('done.sign_in_cancelled') });
      }
      return this.page(reply, 'message', 200, { title: msg('done.cancelled_title'), message: msg('done.cancelled'), link: { href: this.url('account/'), label: msg('common.back_to_account') } });
    }
    // A failure persisted by an older version carries English text, not a message: shown as a generic failure.
    const legacy = !isMsg(f.title) || !isMsg(f.message);
    return this.page(reply, 'error', f.status, {
      title: legacy ? msg('error.title.sign_in_failed') : f.title,
      message: legacy ? msg('error.sign_in_not_completed') : f.message,
      request_id: request.id,
      ...this.backToClient(ctx.target, msg('common.return_to_app')),
    });
  }

  /** A link that tells the client the sign-in did not happen (access_denied, with its state). */
  private backToClient(target: LoginTarget, label: Msg): { back_url?: string; back_label?: Msg } {
    if (target.kind !== 'authorization') return {};
    try {
      return { back_url: this.completer.errorRedirect(target.request, new AccessDeniedError('The sign-in did not complete.')), back_label: label };
    } catch {
      return {};
    }
  }

  /** The login's providers (a sign-up offers only those that may create accounts), in picker order. */
  private providerButtons(offered: string[]) {
    return this.connectors
      .list()
      .filter((p) => offered.includes(p.id))
      .map((p) => ({ id: p.id, name: p.name, icon: brandIcon(p.brand) }));
  }

  private async clientOf(request: FastifyRequest, target: LoginTarget): Promise<ClientDisplay | undefined> {
    const clientId = target.kind === 'authorization' ? target.request.clientId : target.kind === 'device' ? target.device.clientId : undefined;
    if (!clientId) return undefined;
    return this.completer.clientDisplay(clientId, this.renderer.clientLanguages(request));
  }

  private redirect(reply: FastifyReply, location: string): void {
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', location).send();
  }

  page(reply: FastifyReply, template: string, status: number, vars: Record<string, unknown>): Promise<void> {
    return this.renderer.send(reply, template, status, vars);
  }
}
