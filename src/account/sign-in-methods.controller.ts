import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { IdentityError } from '../identity/identity-errors.js';
import { UpstreamLinksService } from '../identity/upstream-links.service.js';
import { LoginPages } from '../login/login.pages.js';
import { LoginService } from '../login/login.service.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { bindLogin } from '../web/cookies.js';
import { CsrfService } from '../web/csrf.service.js';
import { parseForm, singleValues } from '../web/form.js';
import { PageError } from '../web/page-error.js';
import { PageRenderer } from '../web/page-renderer.js';
import { msg } from '../web/i18n/message.js';
import { AccountSessions, type SignedIn } from './account-session.js';

const linkId = z.string().min(1).max(64);

/**
 * The account page's sign-in methods (upstream links): "Add a sign-in method" (a fresh sign-in
 * with another provider, whose identity is then linked: login.machine.ts `attaching`) and
 * "Remove" (never the last one). Both change how the account can be entered, so both need a
 * sign-in less than 10 minutes old, as the destructive MSC4191 actions do.
 */
@Controller(`${OAUTH2_PATHS.account}links`)
export class SignInMethodsController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly sessions: AccountSessions,
    private readonly links: UpstreamLinksService,
    private readonly connectors: ConnectorRegistry,
    private readonly logins: LoginService,
    private readonly pages: LoginPages,
    private readonly csrf: CsrfService,
    private readonly renderer: PageRenderer,
  ) {}

  private profileUrl(done?: string): string {
    const u = new URL(`${this.config.http.public_base}${OAUTH2_PATHS.account}`);
    u.searchParams.set('action', 'org.matrix.profile');
    if (done) u.searchParams.set('done', done);
    return u.href;
  }

  /** "Add a sign-in method": a sign-in with the chosen provider, prompt=login, back to the profile. */
  @Post('add')
  async add(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const me = await this.sessions.requireSignedIn(req);
    const { provider } = parseForm(z.object({ provider: z.string().min(1).max(64) }), req.body);
    const p = this.connectors.list().find((x) => x.id === provider);
    if (!p || p.registration === 'disabled') {
      throw new PageError(400, 'error.title.not_allowed', msg('error.method_not_addable', { provider: p?.name ?? provider }), { reason: 'provider_not_addable' });
    }
    // Prove it is still you first: an unattended browser must not gain a sign-in method for someone else.
    if (!this.sessions.isRecent(me)) return this.sessions.startSignIn(req, reply, this.profileUrl(), true);
    const snap = await this.logins.startLink({ userId: me.user.id, browserSessionId: me.session.id, returnTo: this.profileUrl() }, p.id, req);
    bindLogin(req, reply, this.config, snap.context.loginId);
    await this.pages.respond(req, reply, snap, true);
  }

  /** The confirmation page of "Remove" (a fresh sign-in first when the last one is old). */
  @Get('remove')
  async confirmRemove(@Query() rawQuery: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const id = linkId.safeParse(singleValues(rawQuery).link);
    const here = new URL(`${this.config.http.public_base}${OAUTH2_PATHS.account}links/remove`);
    if (id.success) here.searchParams.set('link', id.data);
    const me = await this.sessions.signedIn(req);
    if (!me) return this.sessions.startSignIn(req, reply, here.href, false);
    if (!this.sessions.isRecent(me)) return this.sessions.startSignIn(req, reply, here.href, true);
    const link = id.success ? await this.ownLink(me, id.data) : undefined;
    if (!link) throw notFound();
    const all = await this.links.forUser(me.user.id);
    if (all.length < 2) throw lastMethod();
    await this.renderer.send(reply, 'account', 200, {
      user_id: `@${me.user.localpart}:${this.config.matrix.homeserver}`,
      display_name: me.user.displayName,
      csrf: this.csrf.token(req, reply, this.sessions.csrfScope(me)),
      nav: { sessions: `${this.config.http.public_base}${OAUTH2_PATHS.account}`, profile: this.profileUrl(), sign_out: `${this.config.http.public_base}${OAUTH2_PATHS.endSession}` },
      view: 'link_remove',
      link: { id: link.id, provider: this.providerName(link.providerId) },
      remove_action: `${this.config.http.public_base}${OAUTH2_PATHS.account}links/remove`,
    });
  }

  @Post('remove')
  async remove(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const me = await this.sessions.requireSignedIn(req, true);
    const { link_id } = parseForm(z.object({ link_id: linkId }), req.body);
    if (!(await this.ownLink(me, link_id))) throw notFound();
    try {
      await this.links.remove(link_id, {}, `user:${me.user.id}`);
    } catch (e) {
      if (e instanceof IdentityError && e.kind === 'last_sign_in_method') throw lastMethod();
      if (e instanceof IdentityError && e.kind === 'not_found') throw notFound();
      throw e;
    }
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', this.profileUrl('removed')).send();
  }

  private async ownLink(me: SignedIn, id: string) {
    const link = await this.links.findById(id);
    return link && link.userId === me.user.id ? link : undefined;
  }

  private providerName(id: string): string {
    return this.connectors.list().find((p) => p.id === id)?.name ?? id;
  }
}

const notFound = () => new PageError(404, 'error.title.page_not_found', 'error.link_not_found', { reason: 'link_not_found' });
const lastMethod = () => new PageError(409, 'error.title.cannot_remove', 'error.last_sign_in_method', { reason: 'last_sign_in_method' });
