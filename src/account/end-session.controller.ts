import { randomBytes } from 'node:crypto';
import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { KeyStore } from '../crypto/key-store.js';
import { LOGGER } from '../http/logger.module.js';
import { BrowserSessionsService } from '../identity/browser-sessions.service.js';
import { LoginService } from '../login/login.service.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { ClientService } from '../oauth2/clients/client.service.js';
import { canonicalRedirectUri } from '../oauth2/clients/redirect-uri.rules.js';
import { AuthorizationCompleter, SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';
import { KeyValueStore } from '../storage/kv-store.js';
import { clearSessionCookie } from '../web/cookies.js';
import { CsrfService } from '../web/csrf.service.js';
import { parseForm, singleValues } from '../web/form.js';
import { PageError } from '../web/page-error.js';
import { msg, type MessageKey } from '../web/i18n/message.js';
import { PageRenderer } from '../web/page-renderer.js';

const params = z.object({
  id_token_hint: z.string().max(16_384).optional(),
  client_id: z.string().max(128).optional(),
  post_logout_redirect_uri: z.string().max(2048).optional(),
  state: z.string().max(2048).optional(),
});
type Params = z.infer<typeof params>;

const invalid = (message: MessageKey, reason: string) => new PageError(400, 'error.title.sign_out_request_invalid', message, { reason });
const returnKey = (state: string) => `logout-return:${state}`;

/**
 * OIDC RP-initiated logout (`end_session_endpoint`): validates `id_token_hint` (our signature;
 * an expired hint is fine), `client_id` and `post_logout_redirect_uri` (exactly one of the client's
 * registered URIs, followed only with a valid `id_token_hint`), asks the user to confirm, ends the browser session and every session born from
 * it, then optionally passes through the upstream IdP's logout before returning to the client.
 */
@Controller(OAUTH2_PATHS.endSession)
export class EndSessionController {
  private readonly jwks: ReturnType<typeof createLocalJWKSet>;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    keys: KeyStore,
    private readonly logins: LoginService,
    private readonly renderer: PageRenderer,
    private readonly csrf: CsrfService,
    private readonly clients: ClientService,
    private readonly completer: AuthorizationCompleter,
    private readonly terminator: SessionTerminator,
    private readonly sessions: BrowserSessionsService,
    private readonly connectors: ConnectorRegistry,
    private readonly kv: KeyValueStore,
  ) {
    this.jwks = createLocalJWKSet(keys.jwks);
  }

  @Get()
  async confirm(@Query() rawQuery: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const p = this.parse(rawQuery);
    const { clientId, finalUrl } = await this.validate(p);
    const current = await this.logins.currentSession(req);
    if (!current) return this.finish(reply, finalUrl);
    const client = clientId ? await this.completer.clientDisplay(clientId, this.renderer.clientLanguages(req)).catch(() => undefined) : undefined;
    await this.renderer.send(reply, 'logout', 200, {
      client,
      user_id: `@${current.user.localpart}:${this.config.matrix.homeserver}`,
      csrf: this.csrf.token(req, reply, `logout:${current.browserSession.id}`),
      action: `${this.config.http.public_base}${OAUTH2_PATHS.endSession}`,
      client_id: clientId,
      // The hint goes along so that the POST checks it again before redirecting.
      id_token_hint: finalUrl ? p.id_token_hint : undefined,
      post_logout_redirect_uri: finalUrl ? p.post_logout_redirect_uri : undefined,
      state: finalUrl ? p.state : undefined,
      cancel_url: `${this.config.http.public_base}${OAUTH2_PATHS.account}`,
    });
  }

  @Post()
  async signOut(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const current = await this.logins.currentSession(req);
    if (current) this.csrf.verify(req, `logout:${current.browserSession.id}`);
    const p = parseForm(params, req.body);
    const { finalUrl } = await this.validate(p);
    clearSessionCookie(reply, this.config);
    if (!current) return this.finish(reply, finalUrl);

    const browser = await this.sessions.findActive(current.browserSession.id);
    await this.terminator.endBrowserSession(current.browserSession.id, 'user_logout');
    const upstream = browser?.upstreamSessionId ? await this.upstreamLogoutUrl(browser.upstreamSessionId, finalUrl) : undefined;
    if (upstream) return this.redirect(reply, upstream);
    return this.finish(reply, finalUrl);
  }

  /** Where the upstream IdP sends the browser back after its own logout. */
  @Get('done')
  async done(@Query() rawQuery: unknown, @Res() reply: FastifyReply) {
    const state = singleValues(rawQuery).state;
    const finalUrl = state && state.length <= 128 ? await this.kv.take(returnKey(state)) : undefined;
    return this.finish(reply, finalUrl || undefined);
  }

  private parse(raw: unknown): Params {
    const r = params.safeParse(singleValues(raw));
    if (!r.success) throw invalid('error.end_session.malformed', 'params_invalid');
    return r.data;
  }

  private async validate(p: Params): Promise<{ clientId?: string; finalUrl?: string }> {
    let audience: string[] = [];
    if (p.id_token_hint) {
      const claims = await this.verifyHint(p.id_token_hint);
      audience = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
      if (p.client_id && !audience.includes(p.client_id)) throw invalid('error.end_session.client_mismatch', 'client_id_mismatch');
    }
    const clientId = p.client_id ?? (audience.length === 1 ? audience[0] : undefined);
    if (!p.post_logout_redirect_uri) return { clientId };
    if (!clientId) throw invalid('error.end_session.client_missing', 'client_missing');
    const client = await this.clients.find(clientId);
    if (!client) throw invalid('error.end_session.client_unknown', 'client_unknown');
    const declared = client.metadata.post_logout_redirect_uris;
    const registered = Array.isArray(declared) ? declared.filter((u): u is string => typeof u === 'string') : client.redirectUris;
    const wanted = canonicalRedirectUri(p.post_logout_redirect_uri);
    if (!wanted || !registered.some((r) => canonicalRedirectUri(r) === wanted)) {
      throw invalid('error.end_session.redirect_not_registered', 'post_logout_redirect_uri_unregistered');
    }
    // OIDC RP-Initiated Logout §2: no redirection without an ID token proving the client asked for
    // it. Without one, anyone could bounce browsers off Causeway's origin to any URI a self-registered
    // client declared (issue 13, F9): the person signs out and stays on Causeway's page.
    if (!p.id_token_hint) {
      this.logger.info({ clientId }, 'post_logout_redirect_uri without id_token_hint: not redirecting');
      return { clientId };
    }
    const url = new URL(wanted);
    if (p.state !== undefined) url.searchParams.set('state', p.state);
    return { clientId, finalUrl: url.href };
  }

  private async verifyHint(token: string): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, this.jwks, { issuer: this.config.http.public_base })).payload;
    } catch (err) {
      // An expired ID token is a fine hint (OIDC RP-Initiated Logout §2): its signature was checked first.
      if (err instanceof joseErrors.JWTExpired) return err.payload;
      throw invalid('error.end_session.id_token_hint_invalid', 'id_token_hint_invalid');
    }
  }

  private async upstreamLogoutUrl(upstreamSessionId: string, finalUrl: string | undefined): Promise<string | undefined> {
    const session = await this.sessions.upstreamSession(upstreamSessionId);
    const connector = session ? this.connectors.get(session.providerId) : undefined;
    if (!session || !connector?.logoutUrl) return undefined;
    const state = randomBytes(24).toString('base64url');
    try {
      const url = await connector.logoutUrl(
        { providerId: session.providerId, subject: session.subject, upstreamSid: session.upstreamSid, details: session.details },
        { returnTo: `${this.config.http.public_base}${OAUTH2_PATHS.endSession}/done`, state },
      );
      if (url && finalUrl) await this.kv.set(returnKey(state), finalUrl, 3600);
      return url;
    } catch (err) {
      // The local sign-out already happened; an unreachable IdP must not leave the user stuck.
      this.logger.warn({ err, providerId: session.providerId }, 'upstream logout URL failed');
      return undefined;
    }
  }

  private async finish(reply: FastifyReply, finalUrl: string | undefined) {
    if (finalUrl) return this.redirect(reply, finalUrl);
    await this.renderer.send(reply, 'message', 200, { title: msg('done.signed_out_title'), message: msg('done.signed_out') });
  }

  private redirect(reply: FastifyReply, location: string): void {
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', location).send();
  }
}
