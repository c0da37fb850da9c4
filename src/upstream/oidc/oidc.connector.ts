import * as oidc from 'openid-client';
import { upstreamCall } from '../../telemetry/outbound-calls.js';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../../storage/kv-store.js';
import {
  type Assertion,
  type BeginResult,
  type CallbackRequest,
  type UpstreamConnector,
  type UpstreamLoginContext,
  type UpstreamSessionRef,
} from '../connector.js';
import type { OidcProviderConfig } from './oidc.config.js';
import { claimsToAttributes } from '../oauth-client/json-attributes.js';
import { classifyOidcError, upstreamError } from '../oauth-client/oauth-errors.js';
import { msg } from '../../web/i18n/message.js';
import { jtiMemorySeconds, logoutJtiKey, LogoutTokenError, verifyLogoutToken, type VerifiedLogoutToken } from './logout-token.js';
import { clientAuthFor } from '../oauth-client/client-auth.js';
import { AuthorizationParams } from '../authorization-params.js';

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
  health(): { status: 'up' | 'degraded'; detail?: string } {
    if (this.lastFailure) return { status: 'degraded', detail: `discovery of ${this.provider.issuer} failed; retried on next use` };
    return this.configuration ? { status: 'up' } : { status: 'up', detail: 'metadata not fetched yet' };
  }

  /** Starts discovery in the background (start-up): the first sign-in does not wait, and a misconfiguration shows in the logs early. */
  warmUp(): void {
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
    const auth = await clientAuthFor(this.provider);
    const overrides = Object.fromEntries(
      (['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint'] as const)
        .filter((k) => p[k] !== undefined)
        .map((k) => [k, p[k]]),
    );
    const execute = p.allow_insecure_http ? [oidc.allowInsecureRequests] : [];
    let server: oidc.ServerMetadata;
    if (p.discovery) {
      const discovered = await upstreamCall(p.id, 'discovery', () => oidc.discovery(new URL(p.issuer), p.client_id, metadata, auth, { execute, timeout: p.timeout_ms / 1000 }));
      server = { ...discovered.serverMetadata(), ...overrides };
    } else {
      server = { issuer: p.issuer, ...overrides };
    }
    const config = new oidc.Configuration(server, p.client_id, metadata, auth);
    config.timeout = p.timeout_ms / 1000;
    for (const fn of execute) fn(config);
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
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string') current.searchParams.append(k, v);

    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    let claims: oidc.IDToken;
    try {
      tokens = await upstreamCall(this.provider.id, 'token', () =>
        oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: s.code_verifier,
          expectedNonce: s.nonce,
          expectedState: ctx.state,
          idTokenExpected: true,
        }),
      );
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
        userinfo = await upstreamCall(this.provider.id, 'userinfo', () => oidc.fetchUserInfo(config, tokens.access_token, claims.sub as string));
      } catch (e) {
        const err = classifyOidcError(e);
        this.log.info({ kind: err.kind, cause: describeCause(e) }, 'OIDC userinfo refused');
        throw err;
      }
    }

    const attributes = claimsToAttributes(userinfo, claims as unknown as Record<string, unknown>);
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
