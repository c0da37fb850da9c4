import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { inflateRawSync } from 'node:zlib';
import { Browser } from '../../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import type { DbKind } from '../../support/databases.js';
import { startFakeIdp, type FakeIdp } from '../../support/fake-oidc-idp.js';
import { fixtureKeys } from '../../support/saml-forge.js';
import { postForm, registerClient } from '../../integration/oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, devSignIn, pkce, REDIRECT, toClient, webClient, CLIENT_URI } from '../../integration/login/login-flow.js';
import { APP_REDIRECT, postJson, ssoLogin } from '../../integration/compat/compat-flow.js';
import { Agent } from './corpus-case.js';

/**
 * The one Causeway a corpus run attacks (per database), with every endpoint family switched on:
 * the dev provider, an OIDC provider (a fake IdP served here: discovery, JWKS and a token endpoint
 * that answers each code with the ID token a case crafted), a SAML provider whose IdP is forged
 * with the test's own keys (test/fixtures/saml), two CAS providers (one whose CAS server is a
 * stand-in served here, one that takes Single Logout only from loopback), the admin API, the
 * compatibility layer, static confidential clients and a registered public client. A victim signs
 * in once: their browser, tokens and codes are what the cases try to steal, replay or misuse.
 */
export const ADMIN_TOKEN = 'corpus-admin-token-0123456789abcdef';
export const OIDC_CLIENT = 'causeway-corpus';
export const SAML_IDP = 'https://idp.corpus.test/idp';
export const SAML_SSO = 'http://127.0.0.1:9/idp/sso';
export const CONF = { id: 'conf-basic', secret: 'conf-basic-secret-0123456789' };
export const POST = { id: 'conf-post', secret: 'conf-post-secret-0123456789' };
export { REDIRECT, CLIENT_URI, APP_REDIRECT };
export const SHARED_SECRET_FOR_FUZZ = SHARED_SECRET;

export interface CasStandin {
  url: string;
  /** serviceValidate answers, by ticket: the XML the CAS server sends back (default: INVALID_TICKET). */
  answers: Map<string, (service: string) => string>;
  close(): Promise<void>;
}

/** A CAS server stand-in: only `/cas/p3/serviceValidate`, answering what the case put in `answers`. */
async function startCasStandin(): Promise<CasStandin> {
  const answers = new Map<string, (service: string) => string>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const ticket = u.searchParams.get('ticket') ?? '';
    const answer = answers.get(ticket);
    const xml = answer
      ? answer(u.searchParams.get('service') ?? '')
      : `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">Ticket ${ticket.replace(/[<&]/g, '')} not recognized</cas:authenticationFailure></cas:serviceResponse>`;
    res.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cas`;
  return { url, answers, close: () => new Promise((r) => server.close(() => r())) };
}

export interface CorpusContext {
  db: DbKind;
  url: string;
  cw: CausewayProcess;
  idp: FakeIdp;
  cas: CasStandin;
  /** ID token responses of the fake OIDC IdP, by authorization code. */
  oidcCodes: Map<string, () => Promise<unknown>>;
  publicClient: string;
  /** A second public client (to misuse the first one's codes and tokens). */
  otherClient: string;
  victim: {
    browser: Browser;
    accessToken: string;
    refreshToken: string;
    /** An authorization code already exchanged once. */
    usedCode: string;
    usedVerifier: string;
    compatAccessToken: string;
    compatRefreshToken: string;
    /** A compat login token already spent. */
    usedLoginToken: string;
  };
  device: { deviceCode: string; userCode: string };
  /** A fresh code for the victim (consent given, so /authorize answers at once). */
  mintCode(extra?: Record<string, string>): Promise<{ code: string; verifier: string }>;
  /** An agent carrying a copy of the victim's cookies (what a case does to it stays in the copy). */
  victimAgent(): Promise<Agent>;
  dispose(): Promise<void>;
}

export async function startCorpusServer(db: DbKind): Promise<CorpusContext> {
  const idp = await startFakeIdp();
  const cas = await startCasStandin();
  try {
    return await start(db, idp, cas);
  } catch (e) {
    await Promise.all([idp.close(), cas.close()]);
    throw e;
  }
}

async function start(db: DbKind, idp: FakeIdp, cas: CasStandin): Promise<CorpusContext> {
  const oidcCodes = new Map<string, () => Promise<unknown>>();
  idp.onToken = async (code) => {
    const answer = oidcCodes.get(code);
    if (!answer) return { status: 400, body: { error: 'invalid_grant' } };
    oidcCodes.delete(code);
    return { body: await answer() };
  };
  const idpKeys = fixtureKeys('idp');
  const sp = fixtureKeys('sp');
  const cw = await startCauseway({
    db,
    // Hundreds of requests from one address within a minute: the limits are tested elsewhere (http-edge.spec.ts).
    env: { CAUSEWAY_RATE_LIMIT_SCALE: '50' },
    config: {
      matrix: { api: 'none' },
      admin: { token: ADMIN_TOKEN },
      logging: { level: 'info' },
      http: { body_limit: 64 * 1024 },
      clients: [
        { client_id: CONF.id, client_auth_method: 'client_secret_basic', client_secret: CONF.secret, introspection: true, grant_types: ['client_credentials'] },
        { client_id: POST.id, client_auth_method: 'client_secret_post', client_secret: POST.secret, grant_types: ['client_credentials'], client_credentials_scopes: ['openid'] },
      ],
      upstream: {
        providers: [
          { id: 'dev', kind: 'dev', name: 'Development sign-in' },
          { id: 'corp', kind: 'oidc', name: 'Corp OIDC', issuer: idp.issuer, client_id: OIDC_CLIENT, client_secret: 'corpus-oidc-secret', allow_insecure_http: true, backchannel_logout: true, fetch_userinfo: false },
          {
            id: 'forged',
            kind: 'saml',
            name: 'Forged SAML IdP',
            idp: { entity_id: SAML_IDP, sso_url: SAML_SSO, slo_url: 'http://127.0.0.1:9/idp/slo', certs: [idpKeys.certFile] },
            sp: { key_file: sp.keyFile, cert_file: sp.certFile },
          },
          { id: 'campus', kind: 'cas', name: 'Campus CAS', server_url: cas.url, allow_insecure_http: true, slo_allowed_from: ['192.0.2.0/24'] },
          { id: 'campus-lo', kind: 'cas', name: 'Campus CAS (loopback SLO)', server_url: cas.url, allow_insecure_http: true, slo_allowed_from: ['127.0.0.0/8'] },
        ],
      },
    },
  });
  try {
    return await seed(db, cw, idp, cas, oidcCodes);
  } catch (e) {
    await cw.dispose();
    throw e;
  }
}

async function seed(db: DbKind, cw: CausewayProcess, idp: FakeIdp, cas: CasStandin, oidcCodes: Map<string, () => Promise<unknown>>): Promise<CorpusContext> {
  const url = cw.url;
  const publicClient = await registerClient(url, webClient('Corpus app'));
  const otherClient = await registerClient(url, webClient('Corpus other app'));

  // The victim signs in once through the dev provider and allows the app.
  const browser = new Browser();
  const p = pkce();
  let res = await browser.go(authorizeUrl(url, { clientId: publicClient, challenge: p.challenge, deviceId: 'VICTIMDEV1', extra: { provider: 'dev' } }), {}, toClient);
  res = await devSignIn(browser, res, 'victim');
  if (!res.stoppedAt) res = await decide(browser, res, 'allow');
  const usedCode = codeOf(res.stoppedAt!).code!;
  const tokens = await postForm(`${url}/oauth2/token`, { grant_type: 'authorization_code', code: usedCode, redirect_uri: REDIRECT, client_id: publicClient, code_verifier: p.verifier });
  if (tokens.status !== 200) throw new Error(`victim sign-in failed: ${JSON.stringify(tokens.json)}`);

  // A legacy client's sign-in of the victim: a spent login token, a compat access and refresh token.
  const { loginToken } = await ssoLogin(new Browser(), url, 'victim', APP_REDIRECT, { idp: 'dev' });
  const compat = await postJson(`${url}/_matrix/client/v3/login`, { type: 'm.login.token', token: loginToken, refresh_token: true });
  if (compat.status !== 200) throw new Error(`compat login failed: ${compat.text}`);

  const device = await postForm(`${url}/oauth2/device`, { client_id: publicClient, scope: 'urn:matrix:client:api:* urn:matrix:client:device:CORPUSDEV1' });
  if (device.status !== 200) throw new Error(`device authorization failed: ${JSON.stringify(device.json)}`);

  const ctx: CorpusContext = {
    db,
    url,
    cw,
    idp,
    cas,
    oidcCodes,
    publicClient,
    otherClient,
    victim: {
      browser,
      accessToken: tokens.json.access_token as string,
      refreshToken: tokens.json.refresh_token as string,
      usedCode,
      usedVerifier: p.verifier,
      compatAccessToken: compat.json.access_token as string,
      compatRefreshToken: compat.json.refresh_token as string,
      usedLoginToken: loginToken,
    },
    device: { deviceCode: device.json.device_code as string, userCode: device.json.user_code as string },
    async mintCode(extra = {}) {
      const v = pkce();
      const r = await browser.go(authorizeUrl(url, { clientId: publicClient, challenge: v.challenge, deviceId: `MINT${randomBytes(4).toString('hex')}`, extra }), {}, toClient);
      if (!r.stoppedAt) throw new Error(`minting a code failed: ${r.status} ${r.url}`);
      return { code: codeOf(r.stoppedAt).code!, verifier: v.verifier };
    },
    async victimAgent() {
      const agent = new Agent();
      for (const c of await browser.jar.getCookies(url)) await agent.jar.setCookie(c.toString(), url);
      return agent;
    },
    async dispose() {
      await cw.dispose();
      await idp.close();
      await cas.close();
    },
  };
  return ctx;
}

export interface UpstreamLogin {
  agent: Agent;
  /** Where Causeway sent the browser (the IdP). */
  to: URL;
  state?: string;
  nonce?: string;
  relayState?: string;
  /** The SAML AuthnRequest ID. */
  requestId?: string;
}

/**
 * Starts a sign-in at `provider` in a fresh browser (an /authorize of the public client, as a
 * Matrix client would) and stops where Causeway sends the browser to the IdP.
 */
export async function startUpstreamLogin(ctx: CorpusContext, provider: string, agent = new Agent()): Promise<UpstreamLogin> {
  const v = pkce();
  const hops = await agent.send(ctx.url, { path: authorizeUrl(ctx.url, { clientId: ctx.publicClient, challenge: v.challenge, extra: { provider } }), follow: true });
  const last = hops[hops.length - 1]!;
  if (!last.location) throw new Error(`no redirect to the IdP for ${provider}: ${last.status}`);
  const to = new URL(last.location);
  const login: UpstreamLogin = { agent, to };
  if (provider === 'forged') {
    const request = inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString();
    login.relayState = to.searchParams.get('RelayState')!;
    login.requestId = /\bID="([^"]+)"/.exec(request)![1]!;
  } else if (provider === 'corp') {
    login.state = to.searchParams.get('state')!;
    login.nonce = to.searchParams.get('nonce')!;
  } else {
    login.state = new URL(to.searchParams.get('service')!).searchParams.get('state')!;
  }
  return login;
}

/** A one-off code the fake OIDC IdP answers with `answer(nonce)` (the ID token response a case crafted). */
export function oidcCode(ctx: CorpusContext, login: UpstreamLogin, answer: (nonce: string) => Promise<unknown>): string {
  const code = `c-${randomBytes(8).toString('hex')}`;
  ctx.oidcCodes.set(code, () => answer(login.nonce ?? ''));
  return code;
}
