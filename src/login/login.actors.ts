import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Logger } from 'pino';
import { fromPromise } from 'xstate';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LOGGER } from '../http/logger.module.js';
import { BrowserSessionsService } from '../identity/browser-sessions.service.js';
import { IdentityLinker } from '../identity/identity-linker.service.js';
import { TermsService } from '../identity/terms.service.js';
import { AuthorizationCompleter, DeviceGrantDecider } from '../oauth2/oauth2.contracts.js';
import { OAuthError } from '../oauth2/errors.js';
import { KeyValueStore } from '../storage/kv-store.js';
import { UpstreamError, type Assertion, type DownstreamRequest, type UpstreamConnector, type UpstreamLoginContext } from '../upstream/connector.js';
import { checkAssertion } from '../upstream/assertion-check.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';
import { PageError } from '../web/page-error.js';
import { pageErrorOf } from './domain-error-pages.js';
import { msg } from '../web/i18n/message.js';
import { IdentityMapper } from './identity-mapper.js';
import type {
  AttachIdentityInput,
  ConfirmLinkInput,
  LoginUser,
  BeginUpstreamInput,
  BeginUpstreamOutput,
  CheckConsentInput,
  CompleteLoginInput,
  CompleteUpstreamInput,
  LinkIdentityOutput,
  LoginBrowserSession,
  LoginTarget,
  MapIdentityInput,
  RegisterAccountInput,
  RegisterAccountOutput,
  StartSessionInput,
  TermsInput,
} from './login.machine.js';
import type { MappedIdentity } from '../upstream/mapping/mapped-identity.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { CompatSsoCompleter } from './compat-login.contract.js';
import { lazyContract } from '../identity/lazy-contract.js';
import { inSpan } from '../telemetry/tracer.js';
import { upstreamUrls } from '../upstream/upstream-urls.js';

/** KeyValueStore key of a single-use upstream state (→ the login and provider it belongs to). */
export const upstreamStateKey = (state: string) => `upstream-state:${state}`;
export interface UpstreamStateEntry {
  loginId: string;
  providerId: string;
}

/**
 * The side effects of the login machine, as named promise actors (provided with
 * `machine.provide({ actors })`). Each takes what it needs from its input only, so any replica can
 * run any step. Errors meant for the user (PageError, UpstreamError, OAuth errors) pass through;
 * anything else is logged here and shown as a generic failure.
 */
@Injectable()
export class LoginActors {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly kv: KeyValueStore,
    private readonly connectors: ConnectorRegistry,
    private readonly mapper: IdentityMapper,
    private readonly linker: IdentityLinker,
    private readonly sessions: BrowserSessionsService,
    private readonly completer: AuthorizationCompleter,
    private readonly devices: DeviceGrantDecider,
    private readonly terms: TermsService,
    moduleRef: ModuleRef,
  ) {
    this.compat = lazyContract(moduleRef, CompatSsoCompleter);
  }

  /** The compatibility layer's end of a legacy SSO login (CompatModule, which itself depends on this module). */
  private readonly compat: () => CompatSsoCompleter;

  implementations() {
    return {
      beginUpstream: this.actor('beginUpstream', (i: BeginUpstreamInput) => this.beginUpstream(i)),
      completeUpstream: this.actor('completeUpstream', (i: CompleteUpstreamInput) => this.completeUpstream(i)),
      mapIdentity: this.actor('mapIdentity', (i: MapIdentityInput) => this.mapper.map(this.provider(i.providerId), i.assertion)),
      linkIdentity: this.actor('linkIdentity', (i: { providerId: string; mapped: MappedIdentity }) => this.linkIdentity(i)),
      registerAccount: this.actor('registerAccount', (i: RegisterAccountInput) => this.registerAccount(i)),
      startSession: this.actor('startSession', (i: StartSessionInput) => this.startSession(i)),
      checkTerms: this.actor('checkTerms', (i: TermsInput) => this.terms.status(i.user.id)),
      acceptTerms: this.actor('acceptTerms', (i: TermsInput) => this.terms.accept(i.user.id)),
      checkConsent: this.actor('checkConsent', (i: CheckConsentInput) => this.checkConsent(i)),
      completeLogin: this.actor('completeLogin', (i: CompleteLoginInput) => this.completeLogin(i)),
      rejectLogin: this.actor('rejectLogin', (i: { target: LoginTarget }) => this.rejectLogin(i)),
      confirmLink: this.actor('confirmLink', (i: ConfirmLinkInput) => this.confirmLink(i)),
      attachIdentity: this.actor('attachIdentity', (i: AttachIdentityInput) => this.attachIdentity(i)),
    };
  }

  private actor<I, O>(name: string, run: (input: I) => Promise<O>) {
    return fromPromise<O, I>(async ({ input }) => {
      try {
        return await inSpan(`login.step ${name}`, { 'causeway.login.step': name }, () => run(input));
      } catch (thrown) {
        // Identity's and oauth2's refusals become the pages they are shown as (and persist as such).
        const err = pageErrorOf(thrown) ?? thrown;
        const userFacing = err instanceof PageError || err instanceof UpstreamError || err instanceof OAuthError;
        if (!userFacing || err.status >= 500) this.logger.error({ err, step: name }, 'login step failed');
        // The cause of an UpstreamError is for operators (never shown): log it.
        else this.logger.info({ step: name, error: err.message, cause: err instanceof UpstreamError ? err.cause : undefined }, 'login step refused');
        throw err;
      }
    });
  }

  private provider(id: string): ProviderConfig {
    const p = this.connectors.list().find((x) => x.id === id);
    if (!p) throw new PageError(400, 'error.title.unknown_sign_in_method', 'error.provider_gone', { reason: 'provider_gone' });
    return p;
  }

  private connector(id: string): UpstreamConnector {
    const c = this.connectors.get(id);
    if (!c) this.provider(id);
    return c!;
  }

  private upstreamContext(i: { loginId: string; providerId: string; prompt: string[]; loginHint?: string; request?: DownstreamRequest }, state: string): UpstreamLoginContext {
    return {
      loginId: i.loginId,
      state,
      callbackUrl: upstreamUrls(this.config.http.public_base, i.providerId).callback,
      prompt: i.prompt,
      ...(i.loginHint ? { loginHint: i.loginHint } : {}),
      ...(i.request ? { request: i.request } : {}),
    };
  }

  private async beginUpstream(i: BeginUpstreamInput): Promise<BeginUpstreamOutput> {
    const connector = this.connector(i.providerId);
    const state = randomBytes(32).toString('base64url');
    const begun = await connector.begin(this.upstreamContext(i, state));
    const redirect = begun.redirectUrl ? { url: begun.redirectUrl } : begun.formPost ? { formPost: begun.formPost } : undefined;
    if (!redirect) throw new Error(`connector ${i.providerId} returned neither a redirect nor a form`);
    // Single use: the callback takes it (KeyValueStore.take), so a replayed callback finds nothing.
    const entry: UpstreamStateEntry = { loginId: i.loginId, providerId: i.providerId };
    await this.kv.set(upstreamStateKey(state), JSON.stringify(entry), this.config.login.ttl);
    return { state, saved: begun.saved, redirect };
  }

  private async completeUpstream(i: CompleteUpstreamInput): Promise<Assertion> {
    const assertion = await this.connector(i.providerId).complete(i.callback, i.saved, this.upstreamContext(i, i.state));
    if (assertion.providerId !== i.providerId) throw new UpstreamError('unsolicited', msg('upstream.other_method'));
    return checkAssertion(assertion);
  }

  private async linkIdentity(i: { providerId: string; mapped: MappedIdentity }): Promise<LinkIdentityOutput> {
    const r = await this.linker.resolve(this.provider(i.providerId), i.mapped);
    switch (r.outcome) {
      case 'signed_in':
        return { outcome: 'signed_in', user: r.user };
      case 'confirm':
        return { outcome: 'confirm', user: r.user, providerIds: r.providerIds };
      case 'register':
        return { outcome: 'register', suggestion: r.suggestion, fixed: r.fixed };
    }
  }

  private async confirmLink(i: ConfirmLinkInput): Promise<LoginUser> {
    return this.linker.confirmLink({ provider: this.provider(i.pending.providerId), mapped: i.pending.mapped }, { provider: this.provider(i.reauth.providerId), mapped: i.reauth.mapped }, i.userId);
  }

  private async attachIdentity(i: AttachIdentityInput): Promise<{ redirectUrl: string }> {
    const outcome = await this.linker.attachToAccount(this.provider(i.providerId), i.mapped, i.target.userId, i.target.browserSessionId);
    const back = new URL(i.target.returnTo);
    back.searchParams.set('done', outcome);
    return { redirectUrl: back.href };
  }

  private async registerAccount(i: RegisterAccountInput): Promise<RegisterAccountOutput> {
    return this.linker.register(this.provider(i.providerId), i.mapped, i.localpart, i.displayname);
  }

  private async startSession(i: StartSessionInput): Promise<LoginBrowserSession> {
    const s = await this.sessions.start({ userId: i.user.id, providerId: i.providerId, assertion: i.assertion, userAgent: i.userAgent, ip: i.ip });
    return { id: s.id, authenticatedAt: s.authenticatedAt };
  }

  private async checkConsent(i: CheckConsentInput): Promise<{ needed: boolean }> {
    switch (i.target.kind) {
      case 'authorization':
        return { needed: await this.completer.needsConsent(i.target.request, { userId: i.user.id, localpart: i.user.localpart }) };
      case 'device':
        // RFC 8628: the user always confirms the code, client and device before approving.
        return { needed: true };
      case 'account':
        return { needed: false };
      case 'compat_sso':
        // Phishing defence: the user always sees which account signs in where (the redirect host) before the token leaves.
        return { needed: true };
      case 'link':
        return { needed: false };
    }
  }

  private async completeLogin(i: CompleteLoginInput): Promise<{ redirectUrl?: string }> {
    const user = { userId: i.user.id, localpart: i.user.localpart };
    switch (i.target.kind) {
      case 'authorization': {
        if (i.consentGiven) await this.completer.recordConsent(i.target.request, i.user.id);
        return { redirectUrl: await this.completer.complete(i.target.request, user, i.browserSession) };
      }
      case 'device':
        await this.devices.approve(i.target.device.userCode, user, i.browserSession);
        return {};
      case 'account':
        return { redirectUrl: i.target.returnTo };
      case 'compat_sso':
        return { redirectUrl: await this.compat().complete(i.target.redirectUrl, user, i.browserSession) };
      case 'link':
        // Never reached: an added sign-in method ends in `attaching` (login.machine.ts).
        return { redirectUrl: i.target.returnTo };
    }
  }

  private async rejectLogin(i: { target: LoginTarget }): Promise<void> {
    if (i.target.kind === 'device') await this.devices.deny(i.target.device.userCode);
  }
}
