import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../../support/causeway.js';
import { Browser, forms, textOf, type BrowserResponse } from '../../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../../support/homeserver-standin.js';
import { startGitHubStandin, type GitHubStandin } from '../../../support/github-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, withPeerUser } from '../../../support/oidc-peer.js';
import type { Peer } from '../../../support/peers.js';
import { freePort } from '../../../support/ports.js';
import { registerClient } from '../../oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, exchange, pkce, toClient, webClient } from '../../login/login-flow.js';

/**
 * `kind: oauth2`: one connector, configured (not coded) per provider, signing people in through
 * Causeway end to end:
 * - against the GitHub stand-in (test/support/github-standin.ts, GitHub's documented OAuth app flow
 *   and REST answers): the subject is GitHub's numeric `id`, the email is the verified primary one
 *   from /user/emails (never the unverified or the public profile one), an organisation from
 *   /user/orgs is a requirement, GitHub's HTTP-200 token errors are refused as errors;
 * - against the real oidc-provider peer used as a plain OAuth 2.0 server (no `openid` scope, so no
 *   ID token; identity from its /api/user), with its RFC 9207 `iss` checked.
 */

const RUN = randomBytes(4).toString('hex');
const PEER_CLIENT = `oauth2-plain-${RUN}`;
let gh: GitHubStandin;
let peer: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let clientId: string;

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  gh = await startGitHubStandin();
  gh.addApp({ clientId: 'gh-app', clientSecret: 'gh-secret', callbackUrl: `${base}upstream/github/callback` });
  gh.addUser({
    login: 'octocat',
    id: 583231,
    name: 'The Octocat',
    email: 'octocat@public.example',
    emails: [
      { email: 'octo-unverified@example.org', primary: false, verified: false, visibility: null },
      { email: 'octocat@example.org', primary: true, verified: true, visibility: 'private' },
      { email: 'octo-old@example.org', primary: false, verified: true, visibility: null },
    ],
    orgs: [
      { login: 'causeway-team', id: 9001, public: false },
      { login: 'other-org', id: 9002, public: true },
    ],
  });
  gh.addUser({
    login: 'monalisa',
    id: 1000,
    name: 'Mona Lisa',
    email: null,
    emails: [{ email: 'mona@example.org', primary: true, verified: true, visibility: 'private' }],
    orgs: [{ login: 'other-org', id: 9002, public: true }],
  });
  gh.addUser({
    login: 'unverified',
    id: 1001,
    name: null,
    email: 'u@example.org',
    emails: [{ email: 'u@example.org', primary: true, verified: false, visibility: 'public' }],
    orgs: [{ login: 'causeway-team', id: 9001, public: true }],
  });
  peer = await oidcPeerWithClients({ client_id: PEER_CLIENT, client_secret: 'plain-secret', redirect_uris: [`${base}upstream/plain/callback`] });
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          {
            // As config/oauth2-github.example.yaml, pointed at the stand-in.
            id: 'github',
            kind: 'oauth2',
            name: 'GitHub',
            brand: 'github',
            authorization_endpoint: gh.authorizeUrl,
            token_endpoint: gh.tokenUrl,
            client_id: 'gh-app',
            client_secret: 'gh-secret',
            token_endpoint_auth_method: 'client_secret_post',
            scopes: ['read:user', 'user:email', 'read:org'],
            api_headers: { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
            userinfo: { url: `${gh.apiUrl}/user`, subject: 'id' },
            requests: [
              { url: `${gh.apiUrl}/user/emails`, attributes: { verified_primary_email: { value: 'email', where: { primary: true, verified: true } } } },
              { url: `${gh.apiUrl}/user/orgs`, attributes: { orgs: { value: 'login' } } },
            ],
            attribute_requirements: [{ attribute: 'orgs', contains: 'causeway-team' }],
            claims: {
              localpart: { template: '{{ user.login | downcase }}' },
              displayname: { template: '{{ user.name | default: user.login }}' },
              email: { template: '{{ user.verified_primary_email | first }}' },
            },
            allow_insecure_http: true,
          },
          {
            id: 'plain',
            kind: 'oauth2',
            name: 'Plain OAuth',
            authorization_endpoint: `${peer.url}/auth`,
            token_endpoint: `${peer.url}/token`,
            issuer: peer.url,
            client_id: PEER_CLIENT,
            client_secret: 'plain-secret',
            scopes: ['profile', 'email', 'groups'],
            userinfo: { url: `${peer.url}/api/user`, subject: 'id' },
            claims: {
              localpart: { template: 'plain-{{ user.preferred_username }}' },
              displayname: { template: '{{ user.name }}' },
              email: { template: '{% if user.email_verified == "true" %}{{ user.email }}{% endif %}' },
            },
            allow_insecure_http: true,
          },
        ],
      },
    },
  });
  hs.setEndpoint(cw.issuer);
  clientId = await registerClient(cw.url, webClient('OAuth2 test app'));
}, 600_000);

afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, PEER_CLIENT);
  await cw?.dispose();
  await hs?.stop();
  await gh?.close();
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

/** From /authorize (provider chosen) to the IdP's page. */
async function toIdp(provider: string, browser = new Browser()) {
  const p = pkce();
  const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider } }), {}, toClient);
  return { browser, res, verifier: p.verifier };
}

/** Back through Causeway to the app (consent allowed). */
async function finish(browser: Browser, res: BrowserResponse & { stoppedAt?: string }) {
  let out = res;
  if (!out.stoppedAt && out.status === 200 && forms(out.body, out.url).some((f) => f.action.endsWith('/consent'))) out = await decide(browser, out, 'allow');
  return out;
}

async function gitHubSignIn(login: string, button: 'authorize' | 'cancel' = 'authorize') {
  const { browser, res, verifier } = await toIdp('github');
  expect(res.url.startsWith(gh.authorizeUrl)).toBe(true);
  const [form] = forms(res.body, res.url);
  const back = await browser.go(form!.action, { method: 'POST', form: { ...form!.fields, login, authorize: button === 'authorize' ? '1' : '0' } }, toClient);
  return { browser, res: await finish(browser, back), verifier };
}

describe('kind: oauth2 against the GitHub stand-in', () => {
  it('signs octocat in: numeric id as subject, verified primary email, organisation requirement met', async () => {
    const { res, verifier } = await gitHubSignIn('octocat');
    expect(res.stoppedAt).toBeDefined();
    const { code, error } = codeOf(res.stoppedAt!);
    expect(error).toBeNull();
    expect((await exchange(cw.url, clientId, code!, verifier)).status).toBe(200);

    // The account on the homeserver: localpart from the login, name, and only the verified primary address.
    const user = hs.user('octocat');
    expect(user?.displayName).toBe('The Octocat');
    expect([...user!.emails]).toEqual(['octocat@example.org']);

    // What went to GitHub: PKCE S256 and the scopes at authorize; JSON asked of the token endpoint; the API called with
    // the token, a User-Agent and the configured headers.
    const authorize = gh.requests.find((r) => r.path === '/login/oauth/authorize' && r.method === 'GET')!;
    expect(authorize.query).toMatchObject({ client_id: 'gh-app', scope: 'read:user user:email read:org', code_challenge_method: 'S256' });
    expect(authorize.query.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(gh.requests.find((r) => r.path === '/login/oauth/access_token')?.accept).toContain('application/json');
    for (const path of ['/api/v3/user', '/api/v3/user/emails', '/api/v3/user/orgs']) {
      const call = gh.requests.find((r) => r.path === path)!;
      expect(call.authorization).toMatch(/^Bearer gho_/);
      expect(call.userAgent).toBeTruthy();
      expect(call.accept).toContain('application/vnd.github+json');
    }

    // The account is linked to GitHub's id, not the login: a second sign-in finds it.
    const again = await gitHubSignIn('octocat');
    expect(codeOf(again.res.stoppedAt!).error).toBeNull();
  });

  it('refuses a user outside the required organisation, naming the requirement', async () => {
    const { res } = await gitHubSignIn('monalisa');
    expect(res.status).toBe(403);
    expect(textOf(res.body)).toContain('orgs');
    expect(hs.user('monalisa')).toBeUndefined();
  });

  it('does not import an unverified primary address (the account is created without email)', async () => {
    const { res } = await gitHubSignIn('unverified');
    expect(codeOf(res.stoppedAt!).error).toBeNull();
    expect([...hs.user('unverified')!.emails]).toEqual([]);
  });

  it('a cancelled authorization ends on a page saying so, not a 500', async () => {
    const { res } = await gitHubSignIn('octocat', 'cancel');
    expect(res.status).toBe(400);
    expect(textOf(res.body)).toMatch(/cancel|denied|refused/i);
  });

  it('GitHub’s HTTP-200 token error (a replayed code) is refused as an error', async () => {
    const { browser, res } = await toIdp('github');
    const [form] = forms(res.body, res.url);
    const back = await browser.go(form!.action, { method: 'POST', form: { ...form!.fields, login: 'octocat', authorize: '1' } }, (u) => u.includes('/upstream/github/callback'));
    const callback = back.stoppedAt!;
    // Someone who copied the code tries it first, without the PKCE verifier: GitHub refuses (with HTTP 200) and the code is spent.
    const code = new URL(callback).searchParams.get('code')!;
    const stolen = await fetch(gh.tokenUrl, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'gh-app', client_secret: 'gh-secret', code }),
    });
    expect(stolen.status).toBe(200);
    expect(((await stolen.json()) as { error?: string }).error).toBe('bad_verification_code');
    const refused = await browser.go(callback, {}, toClient);
    expect(refused.status).toBe(400);
    expect(textOf(refused.body)).not.toMatch(/bad_verification_code/);
  });
});

describe('kind: oauth2 against the oidc-provider peer without openid', () => {
  it('signs alice in from /api/user: no ID token, iss checked, scope without openid', () =>
    withPeerUser(peer, 'alice', async () => {
      const { browser, res, verifier } = await toIdp('plain');
      expect(res.url.startsWith(peer.url)).toBe(true);
      const [login] = forms(res.body, res.url);
      const back = await browser.submit(login!, { username: 'alice', password: 'alicepass' }, toClient);
      const done = await finish(browser, back);
      expect(done.stoppedAt).toBeDefined();
      const { code, error } = codeOf(done.stoppedAt!);
      expect(error).toBeNull();
      expect((await exchange(cw.url, clientId, code!, verifier)).status).toBe(200);
      const user = hs.user('plain-alice');
      expect(user?.displayName).toBe('Alice Liddell');
      expect([...user!.emails]).toEqual(['alice@example.org']);
      const sent = browser.history.find((h) => h.startsWith(`GET ${peer.url}/auth?`))!;
      const scope = new URL(sent.slice(4)).searchParams.get('scope');
      expect(scope).toBe('profile email groups');
    }));
});
