import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { upstreamCall } from '../../telemetry/outbound-calls.js';
import type { Assertion, BeginResult, CallbackRequest, UpstreamConnector, UpstreamLoginContext } from '../connector.js';
import type { ConnectorDeps } from '../connector-kind.js';
import { AuthorizationParams } from '../authorization-params.js';
import { clientAuthFor } from '../oauth-client/client-auth.js';
import { claimsToAttributes } from '../oauth-client/json-attributes.js';
import { classifyOidcError, upstreamError } from '../oauth-client/oauth-errors.js';
import { fetchJsonResource } from '../oauth-client/resource-fetch.js';
import { msg } from '../../web/i18n/message.js';
import type { OAuth2ProviderConfig } from './oauth2.config.js';
import { extract, scalarText, valueAt } from './json-extract.js';

/** What the login machine keeps between begin and the callback. */
interface OAuth2Saved {
  provider: string;
  code_verifier?: string;
  redirect_uri: string;
}

const MAX_SUBJECT_LENGTH = 255;

/**
 * An OAuth 2.0 provider without OpenID Connect, spoken to with openid-client v6 (which implements
 * plain OAuth as well): authorization code with PKCE S256 and the login's single-use state; then
 * the userinfo API and the configured extra calls with the access token. The subject is read from
 * the userinfo answer at `userinfo.subject`; every other field of it becomes an attribute (nested
 * objects flattened with dots), and each extra call adds the attributes it declares.
 *
 * Protocol checks: state, PKCE, RFC 9207 `iss` when `issuer` is configured, client authentication
 * at the token endpoint, `token_type` bearer. There is no ID token: the API answer made with the
 * token is the identity, as GitHub, GitLab's API and Discord document it.
 */
export class OAuth2Connector implements UpstreamConnector {
  private readonly log: Logger;
  private configuration?: Promise<oidc.Configuration>;
  private readonly authorizationParams: AuthorizationParams;

  constructor(
    readonly provider: OAuth2ProviderConfig,
    deps: Pick<ConnectorDeps, 'logger'>,
  ) {
    this.log = deps.logger.child({ component: 'oauth2', provider: provider.id });
    this.authorizationParams = new AuthorizationParams(provider.authorization_params);
  }

  /** The openid-client Configuration, from the explicit endpoints (no network: nothing to discover). */
  private metadata(): Promise<oidc.Configuration> {
    this.configuration ??= this.build();
    return this.configuration;
  }

  private async build(): Promise<oidc.Configuration> {
    const p = this.provider;
    const server: oidc.ServerMetadata = {
      // openid-client needs an issuer; without one configured the server sends no `iss` (checked in complete()).
      issuer: p.issuer ?? new URL(p.authorization_endpoint).origin,
      authorization_endpoint: p.authorization_endpoint,
      token_endpoint: p.token_endpoint,
      ...(p.issuer ? { authorization_response_iss_parameter_supported: true } : {}),
    };
    const config = new oidc.Configuration(server, p.client_id, p.client_secret ? { client_secret: p.client_secret } : {}, await clientAuthFor(p));
    config.timeout = p.timeout_ms / 1000;
    if (p.allow_insecure_http) oidc.allowInsecureRequests(config);
    config[oidc.customFetch] = tokenErrorsAsErrors(p.token_endpoint);
    return config;
  }

  async begin(ctx: UpstreamLoginContext): Promise<BeginResult> {
    const config = await this.metadata();
    let extra: Record<string, string>;
    try {
      extra = this.authorizationParams.render(ctx.request);
    } catch (e) {
      throw upstreamError('config', e);
    }
    const params: Record<string, string> = { ...extra, redirect_uri: ctx.callbackUrl, state: ctx.state };
    if (this.provider.scopes.length) params.scope = this.provider.scopes.join(' ');
    const saved: OAuth2Saved = { provider: this.provider.id, redirect_uri: ctx.callbackUrl };
    if (this.provider.pkce) {
      saved.code_verifier = oidc.randomPKCECodeVerifier();
      params.code_challenge = await oidc.calculatePKCECodeChallenge(saved.code_verifier);
      params.code_challenge_method = 'S256';
    }
    let redirectUrl: string;
    try {
      redirectUrl = oidc.buildAuthorizationUrl(config, params).href;
    } catch (e) {
      throw upstreamError('config', e);
    }
    return { redirectUrl, saved: { ...saved } };
  }

  extractState(req: CallbackRequest): string | undefined {
    const state = req.method === 'GET' ? req.query.state : undefined;
    return typeof state === 'string' && state.length > 0 && state.length <= 512 ? state : undefined;
  }

  async complete(req: CallbackRequest, saved: Record<string, unknown>, ctx: UpstreamLoginContext): Promise<Assertion> {
    const s = saved as Partial<OAuth2Saved>;
    if (s.provider !== this.provider.id) throw upstreamError('state_mismatch', undefined, msg('upstream.oidc_other_idp'));
    if (typeof s.redirect_uri !== 'string' || (this.provider.pkce && typeof s.code_verifier !== 'string')) throw upstreamError('state_mismatch');
    if (req.method !== 'GET') throw upstreamError('malformed', `callback method ${req.method}`);
    if (!this.provider.issuer && req.query.iss !== undefined) {
      // The server identifies itself: without `issuer` its value cannot be checked, so it is an operator's mistake to fix.
      this.log.warn({ iss: req.query.iss.slice(0, 200) }, 'the OAuth server sends `iss` in its authorization response: set `issuer` to that value');
      throw upstreamError('config', 'iss received but no issuer configured');
    }
    const config = await this.metadata();
    const current = new URL(s.redirect_uri);
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') current.searchParams.append(k, v);

    let accessToken: string;
    try {
      const tokens = await upstreamCall(this.provider.id, 'token', () =>
        oidc.authorizationCodeGrant(config, current, {
          ...(s.code_verifier ? { pkceCodeVerifier: s.code_verifier } : {}),
          expectedState: ctx.state,
          idTokenExpected: false,
        }),
      );
      accessToken = tokens.access_token;
    } catch (e) {
      const err = classifyOidcError(e);
      this.log.info({ kind: err.kind, cause: (e as Error).message }, 'OAuth callback refused');
      throw err;
    }

    const p = this.provider;
    const userinfo = await fetchJsonResource(config, p.id, 'userinfo', accessToken, p.userinfo.url, { ...p.api_headers, ...p.userinfo.headers });
    const subject = scalarText(valueAt(userinfo, p.userinfo.subject));
    if (!subject || subject.length > MAX_SUBJECT_LENGTH) {
      this.log.info({ path: p.userinfo.subject }, 'the userinfo answer has no usable subject at the configured path');
      throw upstreamError('malformed', `no subject at ${p.userinfo.subject}`);
    }
    const attributes = claimsToAttributes(isObject(userinfo) ? userinfo : undefined);
    for (const [i, request] of p.requests.entries()) {
      let answer: unknown;
      try {
        answer = await fetchJsonResource(config, p.id, 'api', accessToken, request.url, { ...p.api_headers, ...request.headers });
      } catch (e) {
        if (!request.optional) throw e;
        this.log.info({ request: i, cause: (e as Error).message }, 'optional API call failed; its attributes stay empty');
        answer = [];
      }
      for (const [name, rule] of Object.entries(request.attributes)) attributes[name] = extract(answer, rule);
    }
    attributes.sub = subject;
    return { providerId: p.id, subject, attributes };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Some OAuth servers (GitHub) answer a refused code with HTTP 200 and an `error` body. RFC 6749
 * §5.2 says 400: rewrite such answers of the token endpoint to 400 so they are refused as OAuth
 * errors (invalid_grant …), not as an unreadable token response.
 */
function tokenErrorsAsErrors(tokenEndpoint: string): oidc.CustomFetch {
  return async (url, options) => {
    const res = await fetch(url, options as RequestInit);
    if (url !== tokenEndpoint || res.status !== 200) return res;
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const isError = isObject(body) && typeof body.error === 'string' && body.access_token === undefined;
    return new Response(text, { status: isError ? 400 : 200, headers: res.headers });
  };
}

export function createOAuth2Connector(provider: OAuth2ProviderConfig, deps: ConnectorDeps): OAuth2Connector {
  return new OAuth2Connector(provider, deps);
}
