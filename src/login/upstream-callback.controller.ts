import { randomBytes } from 'node:crypto';
import { All, Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { CallbackRequest, UpstreamConnector } from '../upstream/connector.js';
import { bindLogin } from '../web/cookies.js';
import { singleValues } from '../web/form.js';
import { PageError } from '../web/page-error.js';
import { requireBoundLogin } from './login-binding.js';
import { upstreamStateKey, type UpstreamStateEntry } from './login.actors.js';
import { LoginPages } from './login.pages.js';
import { LoginStore } from './login.store.js';
import { LoginService } from './login.service.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { KeyValueStore } from '../storage/kv-store.js';
import { upstreamUrls } from '../upstream/upstream-urls.js';

const invalidState = (reason: string) => new PageError(400, 'error.title.sign_in_link_invalid', 'error.callback_invalid', { reason });

/** KeyValueStore key of a cross-site POST callback kept until the same browser comes back with a GET. */
const parkedCallbackKey = (key: string) => `upstream-callback:${key}`;
/** A parked callback waits this long for the browser's GET (it follows the 303 at once). */
const PARKED_CALLBACK_TTL_S = 300;
const PARKED_KEY = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE_LENGTH = 512;

interface ParkedCallback {
  providerId: string;
  callback: CallbackRequest;
}

/**
 * The one callback of every upstream (`/upstream/{provider}/callback`, GET and POST): OIDC
 * redirects and form_post, SAML ACS (HTTP-POST), CAS service URL, the dev form.
 *
 * A callback advances only the login bound to the browser that presents it (the signed login
 * cookie), so a genuine IdP response that an attacker had a victim's browser fetch can never
 * finish the attacker's sign-in. The cookie is SameSite=Lax, so a cross-site POST (SAML ACS, OIDC
 * form_post) arrives without it: such a POST is parked under a single-use random key and the
 * browser is sent (303, a top-level GET that carries the cookie) to `…/callback/resume/{key}`,
 * where the binding is checked. A GET callback is checked before its state is consumed, so a
 * foreign browser leaves the state (and the login) as they were.
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
    const connector = this.connector(providerId);
    const callback: CallbackRequest = {
      method: req.method,
      // As the browser saw it (behind a proxy the public base may carry a path prefix).
      url: `${this.config.http.public_base}${req.url.replace(/^\//, '')}`,
      query: singleValues(req.query),
      body: req.method === 'POST' ? singleValues(req.body) : {},
      ip: req.ip,
    };
    if (req.method === 'GET') return this.advance(providerId, connector, callback, req, reply);
    return this.park(providerId, connector, callback, reply);
  }

  @Get(':providerId/callback/resume/:key')
  async resume(@Param('providerId') providerId: string, @Param('key') key: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const connector = this.connector(providerId);
    const raw = PARKED_KEY.test(key) ? await this.kv.take(parkedCallbackKey(key)) : undefined;
    if (!raw) throw invalidState('parked_callback_unknown_or_replayed');
    const parked = JSON.parse(raw) as ParkedCallback;
    if (parked.providerId !== providerId) throw invalidState('state_provider_mismatch');
    return this.advance(providerId, connector, parked.callback, req, reply);
  }

  private connector(providerId: string): UpstreamConnector {
    const connector = this.connectors.get(providerId);
    if (!connector) throw new PageError(404, 'error.title.page_not_found', 'error.no_sign_in_method', { reason: 'unknown_provider' });
    return connector;
  }

  /**
   * A POST callback: refused at once if it can lead nowhere (no state of ours and not an accepted
   * IdP-initiated response), else kept for the browser's same-site GET. Nothing advances here.
   */
  private async park(providerId: string, connector: UpstreamConnector, callback: CallbackRequest, reply: FastifyReply) {
    const state = connector.extractState(callback);
    const known = state && state.length <= MAX_STATE_LENGTH ? await this.kv.get(upstreamStateKey(state)) : undefined;
    if (!known && !connector.acceptsUnsolicited?.(callback)) throw invalidState(state ? 'state_unknown_or_replayed' : 'state_missing');
    const key = randomBytes(32).toString('base64url');
    const parked: ParkedCallback = { providerId, callback };
    await this.kv.set(parkedCallbackKey(key), JSON.stringify(parked), PARKED_CALLBACK_TTL_S);
    const resume = upstreamUrls(this.config.http.public_base, providerId).callbackResume(key);
    void reply.status(303).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').header('Location', resume).send();
  }

  /** Advances the login this callback answers, if this browser is the one bound to it. */
  private async advance(providerId: string, connector: UpstreamConnector, callback: CallbackRequest, req: FastifyRequest, reply: FastifyReply) {
    const state = connector.extractState(callback);
    const peeked = state && state.length <= MAX_STATE_LENGTH ? await this.kv.get(upstreamStateKey(state)) : undefined;
    // No state of ours (none, or e.g. an IdP's own RelayState): an IdP-initiated sign-in, if the connector allows them.
    if (!peeked && connector.acceptsUnsolicited?.(callback)) return this.unsolicited(providerId, callback, req, reply);
    if (!state || state.length > MAX_STATE_LENGTH) throw invalidState('state_missing');
    if (!peeked) throw invalidState('state_unknown_or_replayed');
    const entry = JSON.parse(peeked) as UpstreamStateEntry;
    // IdP mix-up: a response for provider X delivered to provider Y's callback.
    if (entry.providerId !== providerId) throw invalidState('state_provider_mismatch');
    // Before the state is spent: a foreign browser changes nothing.
    requireBoundLogin(req, entry.loginId);
    // Single use: of two concurrent deliveries in the bound browser, one wins.
    if (!(await this.kv.take(upstreamStateKey(state)))) throw invalidState('state_unknown_or_replayed');
    const snap = await this.store.send(entry.loginId, { type: 'UPSTREAM_CALLBACK', providerId, state, callback });
    return this.pages.respond(req, reply, snap, true);
  }

  /**
   * IdP-initiated sign-in (a connector that accepts unsolicited callbacks, e.g. SAML with
   * `allow_idp_initiated: true`): a new login to the account pages with this provider, bound to
   * this browser, fed the unsolicited response. Anyone can make a browser post an assertion of
   * their own, so the login stops on a "Continue as …?" page before any session is issued.
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
