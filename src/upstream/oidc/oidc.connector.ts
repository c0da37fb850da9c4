import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { upstreamCall } from '../../telemetry/outbound-calls.js';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../../storage/kv-store.js';
import { type Assertion, type BeginResult, type CallbackRequest, type ConnectorHealth, type UpstreamConnector, type UpstreamLoginContext, type UpstreamSessionRef } from '../connector.js';
import type { OidcProviderConfig } from './oidc.config.js';
import { claimsToAttributes } from '../oauth-client/json-attributes.js';
import { classifyOidcError, upstreamError } from '../oauth-client/oauth-errors.js';
import { msg } from '../../web/i18n/message.js';
import { jtiMemorySeconds, logoutJtiKey, LogoutTokenError, verifyLogoutToken, type VerifiedLogoutToken } from './logout-token.js';
import { clientAuthFor } from '../oauth-client/client-auth.js';
import { AuthorizationParams } from '../authorization-params.js';
import { discoveryUrl, isTemplateIssuer, tenantIssuer, tenantOfIdToken } from './multi-tenant.js';
import { AppleClientSecret, appleClientAuth } from './apple/apple-client-secret.js';
import { appleUserAttributes } from './apple/apple-user.js';

export interface OidcConnectorDeps {
  publicBase: string;
  /** Replay cache for logout token `jti`s (shared by all replicas). */
  kv: KeyValueStore;
  logger: Logger;
}

/** What the login machine keeps between begin and the callback. */
interface OidcSaved {
  provider: string;
  nonce: string;
  code_verifier: string;
  redirect_uri: string;
}

/** How long the name Apple posted at a first authorization is kept for later sign-ins (30 days). */
const APPLE_NAME_KEEP_S = 30 * 24 * 3600;
const appleNameKey = (provider: string, sub: string) => `apple-name:${provider}:${createHash('sha256').update(sub).digest('base64url')}`;

/** After a failed discovery, callers get the same error for this long before the next attempt. */
const DISCOVERY_RETRY_MS = 5_000;
const MAX_SUBJECT_LENGTH = 255;

/**
 * An upstream OpenID Provider, spoken to with openid-client v6 (OpenID-certified RP).
 *
 * Discovery is lazy: nothing is fetched when the connector is built (start-up never waits for an
 * IdP); the first sign-in or logout token fetches the metadata, which is then kept for the life of
 * the process (JWKS rotation is handled by the JWKS cache, which refetches on an unknown `kid`).
 * A failed discovery is retried after DISCOVERY_RETRY_MS, and the error names the provider.
 *
 * Checks: PKCE S256, nonce, state (the login's single-use state), RFC 9207 `iss` in the
 * authorization response (IdP mix-up), ID token signature via the IdP's JWKS with the configured
 * asymmetric algorithm (`none` and HMAC refused), iss, aud/azp, exp, iat; userinfo `sub` must
 * match the ID token's.
 */
export class OidcConnector implements UpstreamConnector {
  private readonly log: Logger;
  private configuration?: Promise<oidc.Configuration>;
  private lastFailure?: { at: number; error: unknown };
  private logoutKeys?: JWTVerifyGetKey;
  private readonly authorizationParams: AuthorizationParams;
  /** What a Configuration is built from (kept for the per-tenant ones of a multi-tenant provider). */
  private client?: { metadata: Partial<oidc.ClientMetadata>; auth: oidc.ClientAuth; server?: oidc.ServerMetadata };
  /** The IdP's keys, shared by the per-tenant Configurations (each would otherwise fetch the JWKS again). */
  private jwksCache?: oidc.ExportedJWKSCache;

  constructor(
    readonly provider: OidcProviderConfig,
    private readonly deps: OidcConnectorDeps,
  ) {
    this.log = deps.logger.child({ component: 'oidc', provider: provider.id });
    this.authorizationParams = new AuthorizationParams(provider.authorization_params);
  }

  /** The openid-client Configuration (discovered or explicit), created on first use. */
  metadata(): Promise<oidc.Configuration> {
    if (this.lastFailure && Date.now() - this.lastFailure.at < DISCOVERY_RETRY_MS) {
      return Promise.reject(this.unavailable(this.lastFailure.error));
    }
    this.configuration ??= this.discover().then(
      (c) => {
        this.lastFailure = undefined;
        return c;
      },
      (e) => {
        this.configuration = undefined;
        this.lastFailure = { at: Date.now(), error: e };
        this.log.warn({ err: e, issuer: this.provider.issuer }, `OIDC provider "${this.provider.id}": discovery failed`);
        throw this.unavailable(e);
      },
    );
    return this.configuration;
  }

  /** Readiness detail without any network call: discovered, failing (degraded: other providers still work), or not tried yet. */
  health(): ConnectorHealth {
    if (this.lastFailure) return { status: 'degraded', detail: `discovery of ${this.provider.issuer} failed; retried on next use` };
    return this.configuration ? { status: 'up' } : { status: 'up', detail: 'metadata not fetched yet' };
  }

  /** Starts discovery in the background (start-up): the first sign-in does not wait, and a misconfiguration shows in the logs early. */
  async start(): Promise<void> {
    this.metadata().catch(() => undefined); // logged by metadata()
  }

  private unavailable(cause: unknown) {
    return upstreamError('upstream_unavailable', cause, msg('upstream.oidc_unreachable', { provider: this.provider.name }));
  }

  private async discover(): Promise<oidc.Configuration> {
    const p = this.provider;
    const metadata: Partial<oidc.ClientMetadata> = {
      id_token_signed_response_alg: p.id_token_signed_response_alg,
      ...(p.userinfo_signed_response_alg ? { userinfo_signed_response_alg: p.userinfo_signed_response_alg } : {}),
      ...(p.client_secret ? { client_secret: p.client_secret } : {}),
    };
    this.client = { metadata, auth: p.apple ? appleClientAuth(new AppleClientSecret(p.apple, p.client_id)) : await clientAuthFor(this.provider) };
    const overrides = Object.fromEntries((['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint'] as const).filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
    let server: oidc.ServerMetadata;
    if (p.discovery) {
      // A multi-tenant issuer's document names the template, not the URL it is served at: read it by its
      // well-known URL (openid-client then skips its issuer comparison) and compare with the template here.
      const where = p.multi_tenant ? discoveryUrl(p.issuer) : new URL(p.issuer);
      const execute = p.allow_insecure_http ? [oidc.allowInsecureRequests] : [];
      const discovered = await upstreamCall(p.id, 'discovery', () => oidc.discovery(where, p.client_id, metadata, this.client!.auth, { execute, timeout: p.timeout_ms / 1000 }));
      server = { ...discovered.serverMetadata(), ...overrides };
      if (p.multi_tenant && !isTemplateIssuer(p.multi_tenant.issuer_template, server.issuer)) {
        throw new Error(`the discovered issuer ${server.issuer} is not multi_tenant.issuer_template ${p.multi_tenant.issuer_template} (with {tenantid} for {tid})`);
      }
    } else {
      server = { issuer: p.multi_tenant ? p.multi_tenant.issuer_template.replace('{tid}', '{tenantid}') : p.issuer, ...overrides };
    }
    this.client.server = server;
    return this.configure(server);
  }

  /** A Configuration for `server` with this provider's client, timeouts, TLS rule and ID token signature checks. */
  private configure(server: oidc.ServerMetadata, fetchOverride?: oidc.CustomFetch): oidc.Configuration {
    const p = this.provider;
    const config = new oidc.Configuration(server, p.client_id, this.client!.metadata, this.client!.auth);
    config.timeout = p.timeout_ms / 1000;
    if (p.allow_insecure_http) oidc.allowInsecureRequests(config);
    if (fetchOverride) config[oidc.customFetch] = fetchOverride;
    // Verify ID token signatures with the IdP's JWKS (openid-client otherwise trusts the TLS channel to the token endpoint).
    oidc.enableNonRepudiationChecks(config);
    return config;
  }

  async begin(ctx: UpstreamLoginContext): Promise<BeginResult> {
    const config = await this.metadata();
    const code_verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    let extra: Record<string, string>;
    try {
      extra = this.authorizationParams.render(ctx.request);
    } catch (e) {
      throw upstreamError('config', e);
    }
    const params: Record<string, string> = {
      ...extra,
      redirect_uri: ctx.callbackUrl,
      scope: this.provider.scopes.join(' '),
      state: ctx.state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(code_verifier),
      code_challenge_method: 'S256',
    };
    if (this.provider.response_mode === 'form_post') params.response_mode = 'form_post';
    if (ctx.prompt.includes('login')) params.prompt = 'login';
    if (ctx.loginHint) params.login_hint = ctx.loginHint;
    let redirectUrl: string;
    try {
      redirectUrl = oidc.buildAuthorizationUrl(config, params).href;
    } catch (e) {
      throw upstreamError('config', e);
    }
    const saved: OidcSaved = { provider: this.provider.id, nonce, code_verifier, redirect_uri: ctx.callbackUrl };
    return { redirectUrl, saved: { ...saved } };
  }

  /** The authorization response parameters, from the query (response_mode=query) or the form body (form_post). */
  private responseParams(req: CallbackRequest): Record<string, string> | undefined {
    if (this.provider.response_mode === 'form_post') return req.method === 'POST' ? req.body : undefined;
    return req.method === 'GET' ? req.query : undefined;
  }

  extractState(req: CallbackRequest): string | undefined {
    const state = this.responseParams(req)?.state;
    return typeof state === 'string' && state.length > 0 && state.length <= 512 ? state : undefined;
  }

  async complete(req: CallbackRequest, saved: Record<string, unknown>, ctx: UpstreamLoginContext): Promise<Assertion> {
    const s = saved as Partial<OidcSaved>;
    // IdP mix-up: a login started at another provider must not be completed here, whatever the callback carries.
    if (s.provider !== this.provider.id) {
      throw upstreamError('state_mismatch', undefined, msg('upstream.oidc_other_idp'));
    }
    if (typeof s.nonce !== 'string' || typeof s.code_verifier !== 'string' || typeof s.redirect_uri !== 'string') {
      throw upstreamError('state_mismatch');
    }
    const params = this.responseParams(req);
    if (!params) {
      throw upstreamError('malformed', `callback method ${req.method} does not match response_mode ${this.provider.response_mode}`);
    }
    const config = await this.metadata();
    const current = new URL(s.redirect_uri);
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && !(this.provider.apple && k === 'user')) current.searchParams.append(k, v);

    const checks: oidc.AuthorizationCodeGrantChecks = { pkceCodeVerifier: s.code_verifier, expectedNonce: s.nonce, expectedState: ctx.state, idTokenExpected: true };
    let tokens: TokenResult;
    let claims: oidc.IDToken;
    let tokenConfig = config;
    try {
      if (this.provider.multi_tenant) ({ tokens, config: tokenConfig } = await this.multiTenantGrant(current, checks));
      else tokens = await upstreamCall(this.provider.id, 'token', () => oidc.authorizationCodeGrant(config, current, checks));
      claims = tokens.claims()!;
    } catch (e) {
      const err = classifyOidcError(e);
      this.log.info({ kind: err.kind, cause: describeCause(e) }, 'OIDC callback refused');
      throw err;
    }
    if (typeof claims.sub !== 'string' || !claims.sub || claims.sub.length > MAX_SUBJECT_LENGTH) throw upstreamError('malformed', 'sub');
    // oauth4webapi checks exp and nbf, not an iat in the future: a token minted ahead of time (a
    // wrong clock, or a signing key in the wrong hands) is refused beyond the allowed skew.
    if (typeof claims.iat === 'number' && claims.iat > Math.floor(Date.now() / 1000) + this.provider.clock_skew) throw upstreamError('not_yet_valid', 'iat in the future');

    let userinfo: Record<string, unknown> | undefined;
    if (this.provider.fetch_userinfo && config.serverMetadata().userinfo_endpoint) {
      try {
        userinfo = await upstreamCall(this.provider.id, 'userinfo', () => oidc.fetchUserInfo(tokenConfig, tokens.access_token, claims.sub as string));
      } catch (e) {
        const err = classifyOidcError(e);
        this.log.info({ kind: err.kind, cause: describeCause(e) }, 'OIDC userinfo refused');
        throw err;
      }
    }

    const apple = this.provider.apple ? await this.appleName(claims.sub, params.user) : undefined;
    // The ID token and userinfo win over Apple's unsigned `user` field (which only adds the name).
    const attributes = claimsToAttributes(apple, userinfo, claims as unknown as Record<string, unknown>);
    attributes.sub = claims.sub;
    const sid = typeof claims.sid === 'string' && claims.sid ? claims.sid : undefined;
    return {
      providerId: this.provider.id,
      subject: claims.sub,
      attributes,
      ...(sid ? { upstreamSid: sid } : {}),
      // For id_token_hint on RP-initiated logout at the IdP.
      sessionDetails: { id_token: tokens.id_token, ...(sid ? { sid } : {}) },
    };
  }

  /**
   * The code exchange of a multi-tenant provider. The token endpoint is called once; its answer is
   * held back from openid-client until the tenant it is for is known (the ID token's `tid`, read
   * unverified), refused if that tenant is not allowed, and then verified in full by openid-client
   * with a Configuration whose issuer is the template filled with that `tid`: signature against the
   * IdP's JWKS, `iss`, `aud`, nonce, times, PKCE and state as for any provider. A token whose `tid`
   * and `iss` disagree fails that check.
   */
  private async multiTenantGrant(current: URL, checks: oidc.AuthorizationCodeGrantChecks): Promise<{ tokens: TokenResult; config: oidc.Configuration }> {
    const mt = this.provider.multi_tenant!;
    const server = this.client!.server!;
    const tokenEndpoint = server.token_endpoint;
    let held: HeldResponse | undefined;
    const hold: oidc.CustomFetch = async (url, init) => {
      const res = await fetch(url, init as RequestInit);
      if (url !== tokenEndpoint) return res;
      held = new HeldResponse(res.status, [...res.headers], await res.text());
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- stops openid-client here; caught below, never escapes
      throw held;
    };
    try {
      await upstreamCall(this.provider.id, 'token', () => oidc.authorizationCodeGrant(this.configure(server, hold), current, checks));
    } catch (e) {
      // Anything but our held answer (the IdP's error redirect, a refused state, the network) is the real outcome.
      if (!held || !causes(e).includes(held)) throw e;
    }
    const answer = held!;
    let idToken: unknown;
    try {
      idToken = (JSON.parse(answer.body) as { id_token?: unknown }).id_token;
    } catch {
      idToken = undefined;
    }
    // A token error answer has no ID token: let openid-client read it as the error it is.
    const tenant = answer.status === 200 ? tenantOfIdToken(idToken, mt.tenants) : undefined;
    if (tenant && !tenant.ok) {
      if (tenant.reason === 'not_allowed') {
        this.log.info({ tenant: tenant.tid }, 'OIDC sign-in refused: tenant not on multi_tenant.tenants');
        throw upstreamError('tenant_not_allowed', `tenant ${tenant.tid} is not on multi_tenant.tenants`, msg('upstream.tenant_not_allowed', { provider: this.provider.name }));
      }
      throw upstreamError('malformed', 'the ID token carries no tenant id (tid)');
    }
    const issuer = tenant ? tenantIssuer(mt.issuer_template, tenant.tid) : server.issuer;
    let replayed = false;
    const replay: oidc.CustomFetch = async (url, init) => {
      if (url !== tokenEndpoint || replayed) return fetch(url, init as RequestInit);
      replayed = true;
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    };
    const tenantConfig = this.configure({ ...server, issuer }, replay);
    if (this.jwksCache) oidc.setJwksCache(tenantConfig, this.jwksCache);
    const tokens = await oidc.authorizationCodeGrant(tenantConfig, current, checks);
    this.jwksCache = oidc.getJwksCache(tenantConfig) ?? this.jwksCache;
    if (tenant && tokens.claims()?.tid !== tenant.tid) throw upstreamError('issuer_mismatch', 'tid changed between reading and verifying');
    return { tokens, config: tenantConfig };
  }

  /**
   * Sign in with Apple posts the person's name once, with their first authorization of the app.
   * It is kept (APPLE_NAME_KEEP_S, under the verified subject) so that a first sign-in that does
   * not end in an account (a registration page left, a refused requirement) does not lose it.
   */
  private async appleName(sub: string, field: string | undefined): Promise<Record<string, string> | undefined> {
    const key = appleNameKey(this.provider.id, sub);
    const fresh = appleUserAttributes(field);
    if (field !== undefined && !fresh) this.log.info('Apple user field ignored: not the documented {name: {firstName, lastName}, email} JSON');
    if (fresh) {
      await this.deps.kv.set(key, JSON.stringify(fresh), APPLE_NAME_KEEP_S);
      return fresh;
    }
    const kept = await this.deps.kv.get(key);
    return kept ? (JSON.parse(kept) as Record<string, string>) : undefined;
  }

  async logoutUrl(session: UpstreamSessionRef, opts: { returnTo: string; state: string }): Promise<string | undefined> {
    if (!this.provider.upstream_logout) return undefined;
    let config: oidc.Configuration;
    try {
      config = await this.metadata();
    } catch {
      return undefined; // the IdP is down: Causeway's own logout still completes
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    const idToken = session.details?.id_token;
    return oidc.buildEndSessionUrl(config, {
      ...(typeof idToken === 'string' ? { id_token_hint: idToken } : {}),
      post_logout_redirect_uri: opts.returnTo,
      state: opts.state,
    }).href;
  }

  /**
   * Validates a back-channel logout token (signature with this IdP's JWKS, iss, aud = our
   * client_id, iat window, typ, events, sid/sub, no nonce) and records its jti (replays refused).
   * Throws LogoutTokenError.
   */
  async acceptLogoutToken(token: string): Promise<VerifiedLogoutToken> {
    let config: oidc.Configuration;
    try {
      config = await this.metadata();
    } catch (e) {
      throw new LogoutTokenError('keys_unavailable', 'the provider’s metadata cannot be fetched right now', e);
    }
    const server = config.serverMetadata();
    if (!server.jwks_uri) throw new LogoutTokenError('keys_unavailable', 'the provider publishes no jwks_uri');
    this.logoutKeys ??= createRemoteJWKSet(new URL(server.jwks_uri), { timeoutDuration: this.provider.timeout_ms, cooldownDuration: 30_000 });
    const verified = await verifyLogoutToken(token, {
      issuer: server.issuer,
      clientId: this.provider.client_id,
      keys: this.logoutKeys,
      clockSkewSeconds: this.provider.clock_skew,
    });
    const fresh = await this.deps.kv.setIfAbsent(logoutJtiKey(this.provider.id, verified.jti), '1', jtiMemorySeconds(this.provider.clock_skew));
    if (!fresh) throw new LogoutTokenError('replayed', 'logout_token was already used (jti)');
    return verified;
  }

  /** Lets a logout token be delivered again after our side failed to act on it. */
  async forgetLogoutToken(jti: string): Promise<void> {
    await this.deps.kv.delete(logoutJtiKey(this.provider.id, jti));
  }
}

type TokenResult = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

/** A token endpoint answer kept aside (multiTenantGrant): thrown through openid-client to stop it before it verifies. */
class HeldResponse {
  constructor(
    readonly status: number,
    readonly headers: [string, string][],
    readonly body: string,
  ) {}
}

/** An error and its causes (bounded). */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let cur = e, i = 0; i < 6 && cur !== undefined && cur !== null; i++) {
    out.push(cur);
    cur = typeof cur === 'object' ? (cur as { cause?: unknown }).cause : undefined;
  }
  return out;
}

/** The error chain's messages and codes, for logs (no tokens: openid-client messages do not quote them). */
function describeCause(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const c = cur as { message?: unknown; code?: unknown; error?: unknown; cause?: unknown };
    parts.push([c.code, c.error, c.message].filter((x) => typeof x === 'string').join(' '));
    cur = c.cause;
  }
  return parts.filter(Boolean).join(' <- ');
}

export function createOidcConnector(provider: OidcProviderConfig, deps: OidcConnectorDeps): OidcConnector {
  return new OidcConnector(provider, deps);
}
