import { All, Controller, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { CallbackRequest } from '../upstream/connector.js';
import { bindLogin, isLoginBound } from '../web/cookies.js';
import { singleValues } from '../web/form.js';
import { PageError } from '../web/page-error.js';
import { upstreamStateKey, type UpstreamStateEntry } from './login.actors.js';
import { loginPath, LoginPages } from './login.pages.js';
import { LoginStore } from './login.store.js';
import { LoginService } from './login.service.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { KeyValueStore } from '../storage/kv-store.js';

const invalidState = (reason: string) =>
  new PageError(400, 'error.title.sign_in_link_invalid', 'error.callback_invalid', { reason });

/**
 * The one callback of every upstream (`/upstream/{provider}/callback`, GET and POST): OIDC
 * redirects and form_post, SAML ACS (HTTP-POST), CAS service URL, the dev form. The connector
 * reads the state; the state is taken once from the store (a replay finds nothing) and names the
 * login, which verifies the response. A cross-site POST arrives without the SameSite=Lax login
 * cookie: it is processed by its state, then the browser is sent (303, now a same-site GET) to the
 * login's page, which requires the cookie.
 */
@Controller('upstream')
export class UpstreamCallbackController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly connectors: ConnectorRegistry,
    private readonly kv: KeyValueStore,
    private readonly store: LoginStore,
    private readonly pages: LoginPages,
    private readonly logins: LoginService,
  ) {}

  @All(':providerId/callback')
  async callback(@Param('providerId') providerId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    if (req.method !== 'GET' && req.method !== 'POST') throw new PageError(405, 'error.title.method_not_allowed', 'error.callback_method');
    const connector = this.connectors.get(providerId);
    if (!connector) throw new PageError(404, 'error.title.page_not_found', 'error.no_sign_in_method', { reason: 'unknown_provider' });

    const callback: CallbackRequest = {
      method: req.method,
      // As the browser saw it (behind a proxy the public base may carry a path prefix).
      url: `${this.config.http.public_base}${req.url.replace(/^\//, '')}`,
      query: singleValues(req.query),
      body: req.method === 'POST' ? singleValues(req.body) : {},
      ip: req.ip,
    };
    const state = connector.extractState(callback);
    const taken = state && state.length <= 512 ? await this.kv.take(upstreamStateKey(state)) : undefined;
    // No state of ours (none, or e.g. an IdP's own RelayState): an IdP-initiated sign-in, if the connector allows them.
    if (!taken && connector.acceptsUnsolicited?.(callback)) return this.unsolicited(providerId, callback, req, reply);
    if (!state || state.length > 512) throw invalidState('state_missing');
    if (!taken) throw invalidState('state_unknown_or_replayed');
    const entry = JSON.parse(taken) as UpstreamStateEntry;
    // IdP mix-up: a response for provider X delivered to provider Y's callback.
    if (entry.providerId !== providerId) throw invalidState('state_provider_mismatch');

    const snap = await this.store.send(entry.loginId, { type: 'UPSTREAM_CALLBACK', providerId, state, callback });
    if (isLoginBound(req, entry.loginId)) return this.pages.respond(req, reply, snap, true);
    void reply.status(303).header('Cache-Control', 'no-store').header('Location', `${this.config.http.public_base}${loginPath(entry.loginId)}`).send();
  }

  /**
   * IdP-initiated sign-in (a connector that accepts unsolicited callbacks, e.g. SAML with
   * `allow_idp_initiated: true`): a new login to the account pages with this provider, bound to
   * this browser, completed at once with the unsolicited response.
   */
  private async unsolicited(providerId: string, callback: CallbackRequest, req: FastifyRequest, reply: FastifyReply) {
    const started = await this.logins.startUnsolicited(providerId, req);
    const state = started.context.upstream?.state;
    if (!state || started.context.providerId !== providerId) throw invalidState('unsolicited_not_started');
    // The request that login prepared is never sent: spend its state.
    await this.kv.take(upstreamStateKey(state));
    bindLogin(req, reply, this.config, started.context.loginId);
    const snap = await this.store.send(started.context.loginId, { type: 'UPSTREAM_CALLBACK', providerId, state, callback: { ...callback, unsolicited: true } });
    return this.pages.respond(req, reply, snap, true);
  }
}
