import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createClient, generateScope, OAuth2, type ValidatedAuthMetadata } from 'matrix-js-sdk';
import { SignJWT, type JWTPayload } from 'jose';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { Browser, forms, textOf, type BrowserResponse } from '../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { errorsFor, oidcPeerWithClients, peerAdminLogout, removeOidcPeerClients, withPeerUser } from '../support/oidc-peer.js';
import { startFakeIdp, type FakeIdp } from '../support/fake-oidc-idp.js';
import type { Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';

/**
 * Identity brokering through upstream OIDC, end to end: a Matrix client (matrix-js-sdk) signs in
 * through Causeway at the real oidc-provider peer (alice/alicepass), gets a token the homeserver
 * stand-in accepts; a second sign-in reuses the account; bob fails the `groups contains staff`
 * requirement and is told which one; the IdP's back-channel logout makes alice's tokens inactive.
 * Hostile callbacks (unknown/replayed state, IdP mix-up, forged ID tokens from a fake IdP) end on
 * a 4xx page, never a 500.
 */

const RUN = randomBytes(4).toString('hex');
const CLIENT_ID = `causeway-e2e-${RUN}`;
const CLIENT_SECRET = randomBytes(16).toString('hex');
const APP = 'http://127.0.0.1:9/app';
const REDIRECT = `${APP}/callback`;

let peer: Peer;
let fake: FakeIdp;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let metadata: ValidatedAuthMetadata;
let clientId: string;

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  peer = await oidcPeerWithClients({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${base}upstream/peer/callback`],
    post_logout_redirect_uris: [`${base}end-session/done`],
    backchannel_logout_uri: `${base}upstream/peer/backchannel-logout`,
  });
  fake = await startFakeIdp();
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          {
            id: 'peer',
            kind: 'oidc',
            name: 'Example IdP',
            issuer: peer.url,
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            allow_insecure_http: true,
            scopes: ['openid', 'profile', 'email', 'groups'],
            attribute_requirements: [{ attribute: 'groups', contains: 'staff' }],
            claims: { displayname: { template: '{{ user.name }}', sync: 'always' } },
            backchannel_logout: true,
            upstream_logout: true,
          },
          { id: 'fake', kind: 'oidc', name: 'Fake IdP', issuer: fake.issuer, client_id: 'fake-client', client_secret: 'fake-secret', allow_insecure_http: true, fetch_userinfo: false },
          { id: 'gone', kind: 'oidc', name: 'Unreachable IdP', issuer: `http://127.0.0.1:${await freePort()}`, client_id: 'c', client_secret: 's', allow_insecure_http: true },
        ],
      },
    },
  });
  metadata = await createClient({ baseUrl: hs.url }).getAuthMetadata();
  clientId = await OAuth2.registerClient(metadata, {
    client_name: 'E2E client',
    client_uri: `${APP}/`,
    redirect_uris: [REDIRECT],
    application_type: 'web',
  });
}, 600_000);

afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, CLIENT_ID);
  await cw?.dispose();
  await hs?.stop();
  await fake?.close();
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

const atClient = (u: string) => u.startsWith(REDIRECT);
const isCausewayCallback = (u: string) => u.startsWith(`${cw.url}/upstream/peer/callback`);

/** A Matrix client's authorization URL (matrix-js-sdk builds it), optionally choosing the provider. */
async function startLogin(provider: 'peer' | 'fake' | 'gone' = 'peer') {
  const oauth = new OAuth2(metadata, { clientId });
  const state = randomBytes(8).toString('hex');
  // openid too, so /oauth2/userinfo shows what the claims mapping stored.
  const url = new URL(await oauth.generateAuthorizationCodeGrantUrl(state, REDIRECT, 'query', undefined, `openid ${generateScope(oauth.context.deviceId)}`));
  url.searchParams.set('provider', provider);
  return { oauth, state, url: url.href };
}

/**
 * A person in a browser: through Causeway to the IdP's form, signs in, back through Causeway,
 * allows the client if asked. Stops at the client's redirect URI or on a page that has no way on.
 */
async function browse(browser: Browser, url: string, user?: string): Promise<BrowserResponse & { stoppedAt?: string }> {
  let res = await browser.go(url, {}, atClient);
  for (let step = 0; step < 6 && !res.stoppedAt; step++) {
    const form = forms(res.body, res.url)[0];
    if (res.status !== 200 || !form) return res;
    if (res.url.startsWith(peer.url) && 'password' in form.fields && user) {
      res = await browser.submit(form, { username: user, password: `${user}pass` }, atClient);
    } else if (form.action.endsWith('/consent')) {
      // Two buttons share the name "decision": press Allow.
      res = await browser.submit(form, { decision: 'allow' }, atClient);
    } else {
      return res;
    }
  }
  return res;
}

async function signIn(user: string) {
  const login = await startLogin();
  const browser = new Browser();
  const res = await browse(browser, login.url, user);
  expect(res.stoppedAt).toBeDefined();
  const back = new URL(res.stoppedAt!);
  expect(back.searchParams.get('state')).toBe(login.state);
  expect(back.searchParams.get('error')).toBeNull();
  const tokens = await login.oauth.completeAuthorizationCodeGrant(back.searchParams.get('code')!, REDIRECT);
  return { tokens, browser, deviceId: login.oauth.context.deviceId };
}

async function introspect(token: string): Promise<{ active: boolean; username?: string }> {
  const res = await fetch(`${cw.url}/oauth2/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { active: boolean; username?: string };
}

describe('OIDC brokering end to end (real oidc-provider peer, matrix-js-sdk, homeserver stand-in)', () => {
  let first: Awaited<ReturnType<typeof signIn>>;
  let second: Awaited<ReturnType<typeof signIn>>;

  it('alice signs in through the upstream IdP; whoami on the homeserver shows @alice', () =>
    withPeerUser(peer, 'alice', async () => {
      first = await signIn('alice');
      const matrix = createClient({ baseUrl: hs.url, accessToken: first.tokens.access_token });
      const who = await matrix.whoami();
      expect(who.user_id).toBe('@alice:example.test');
      expect(who.device_id).toBe(first.deviceId);
      // The claims mapping: display name from `name`, email only because the IdP verified it.
      const info = await fetch(`${cw.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${first.tokens.access_token}` } });
      expect(await info.json()).toMatchObject({ preferred_username: 'alice', name: 'Alice Liddell', email: 'alice@example.org' });
    }));

  it('alice’s second sign-in reuses her account', () =>
    withPeerUser(peer, 'alice', async () => {
      second = await signIn('alice');
      expect(second.tokens.access_token).not.toBe(first.tokens.access_token);
      const who = await createClient({ baseUrl: hs.url, accessToken: second.tokens.access_token }).whoami();
      expect(who.user_id).toBe('@alice:example.test');
      expect(hs.callsTo('provision_user', { ok: true }).map((c) => (c.body as { localpart: string }).localpart)).not.toContain('alice1');
      expect(hs.state.users.size).toBe(1);
    }));

  it('bob fails the attribute requirement and is told which one, without his values', () =>
    withPeerUser(peer, 'bob', async () => {
      const login = await startLogin();
      const res = await browse(new Browser(), login.url, 'bob');
      expect(res.stoppedAt).toBeUndefined();
      expect(res.status).toBe(403);
      const text = textOf(res.body);
      expect(text).toContain('Sign-in failed');
      expect(text).toContain('“groups”');
      expect(text).toMatch(/must include a required value/);
      expect(text).not.toContain('student');
      expect(hs.user('bob')).toBeUndefined();
    }));

  it('signing out at Causeway also ends the session at the IdP (upstream_logout: end_session_endpoint with id_token_hint)', () =>
    withPeerUser(peer, 'alice', async () => {
      const s = await signIn('alice');
      const confirm = await s.browser.go(`${cw.url}/end-session`);
      expect(confirm.status).toBe(200);
      const out = await s.browser.submit(forms(confirm.body, confirm.url)[0]!, {}, (u) => u.startsWith(peer.url));
      expect(await introspect(s.tokens.access_token)).toEqual({ active: false });
      const endSession = new URL(out.stoppedAt!);
      expect(endSession.origin + endSession.pathname).toBe(`${peer.url}/session/end`);
      expect(endSession.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
      expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${cw.url}/end-session/done`);
      expect(endSession.searchParams.get('state')).toBeTruthy();
      // The IdP asks to confirm; yes ends its session and sends the browser back to Causeway.
      const ask = await s.browser.go(endSession.href);
      const back = await s.browser.submit(forms(ask.body, ask.url)[0]!, { logout: 'yes' });
      expect(back.url).toMatch(new RegExp(`^${cw.url}/end-session/done\\?state=`));
      expect(back.status).toBe(200);
      expect(textOf(back.body)).toContain('Signed out');
      // The IdP session is gone: a new sign-in shows its login form again.
      const again = await s.browser.go((await startLogin()).url, {}, atClient);
      expect(again.url.startsWith(peer.url) && 'password' in (forms(again.body, again.url)[0]?.fields ?? {})).toBe(true);
    }));

  it('the upstream IdP’s back-channel logout makes alice’s tokens inactive at once', () =>
    withPeerUser(peer, 'alice', async () => {
      const before = await introspect(first.tokens.access_token);
      expect(before).toMatchObject({ active: true, username: 'alice' });
      const started = Date.now();
      const out = await peerAdminLogout(peer, 'alice');
      expect(errorsFor(out, CLIENT_ID)).toEqual([]);
      expect(out.notified).toContain(CLIENT_ID);
      // The IdP waited for Causeway's 200 before answering: the very next introspection is inactive.
      expect(await introspect(first.tokens.access_token)).toEqual({ active: false });
      // Both of alice's upstream sessions (one per sign-in) were named in logout tokens.
      expect(await introspect(second.tokens.access_token)).toEqual({ active: false });
      process.stdout.write(`back-channel logout → token inactive: ${Date.now() - started} ms\n`);
      // The homeserver learns it through the outbox: alice's devices are synced away, so even its
      // cached introspection answer no longer lets the token in.
      await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart?: string }).localpart === 'alice' && c.status === 200 && !hs.devices('alice').includes(first.deviceId));
      expect(hs.devices('alice')).not.toContain(second.deviceId);
      await expect(createClient({ baseUrl: hs.url, accessToken: first.tokens.access_token }).whoami()).rejects.toMatchObject({ httpStatus: 401 });
    }));
});

it('an unreachable IdP ends the sign-in on a 503 page naming it', async () => {
  const res = await browse(new Browser(), (await startLogin('gone')).url);
  expect(res.status).toBe(503);
  expect(textOf(res.body)).toContain('“Unreachable IdP” cannot be reached right now');
});

describe('hostile callbacks end on a 4xx page, never a 500', () => {
  /** Starts a login at the chosen provider and stops where the browser would leave for the IdP. */
  async function loginUntilIdp(provider: 'peer' | 'fake') {
    const browser = new Browser();
    const login = await startLogin(provider);
    const idp = provider === 'peer' ? peer.url : fake.issuer;
    const res = await browser.go(login.url, {}, (u) => u.startsWith(idp));
    expect(res.stoppedAt).toBeDefined();
    const authorize = new URL(res.stoppedAt!);
    return { browser, state: authorize.searchParams.get('state')!, nonce: authorize.searchParams.get('nonce')!, authorizeUrl: authorize.href };
  }

  /** A real callback from the peer for a login at `peer` (alice signs in), not yet delivered. */
  async function peerCallback() {
    const l = await loginUntilIdp('peer');
    const page = await l.browser.go(l.authorizeUrl);
    const done = await l.browser.submit(forms(page.body, page.url)[0]!, { username: 'alice', password: 'alicepass' }, isCausewayCallback);
    expect(done.stoppedAt).toBeDefined();
    return { ...l, callback: new URL(done.stoppedAt!) };
  }

  async function expectPage(res: BrowserResponse, status: number, message: RegExp) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(textOf(res.body)).toMatch(message);
  }

  it('a callback with an unknown state', async () => {
    const res = await new Browser().request(`${cw.url}/upstream/peer/callback?code=abc&state=${randomBytes(16).toString('hex')}&iss=${encodeURIComponent(peer.url)}`);
    await expectPage(res, 400, /not valid/);
  });

  it('a callback without a state', async () => {
    await expectPage(await new Browser().request(`${cw.url}/upstream/peer/callback?code=abc`), 400, /not valid/);
  });

  it('a replayed callback (the state is single-use)', () =>
    withPeerUser(peer, 'alice', async () => {
      const p = await peerCallback();
      const first = await browse(p.browser, p.callback.href);
      expect(first.stoppedAt).toBeDefined(); // signed in
      await expectPage(await p.browser.request(p.callback.href), 400, /already used|not valid/);
    }));

  it('IdP mix-up: the peer’s callback delivered to another provider’s endpoint', () =>
    withPeerUser(peer, 'alice', async () => {
      const p = await peerCallback();
      const misrouted = new URL(p.callback.href.replace('/upstream/peer/', '/upstream/fake/'));
      await expectPage(await p.browser.request(misrouted.href), 400, /not valid/);
    }));

  it('IdP mix-up: the peer’s code and iss carried with a state of a login at the fake IdP', () =>
    withPeerUser(peer, 'alice', async () => {
      const p = await peerCallback();
      const f = await loginUntilIdp('fake');
      fake.onToken = () => ({ status: 400, body: { error: 'invalid_grant' } });
      const url = new URL(`${cw.url}/upstream/fake/callback`);
      url.searchParams.set('code', p.callback.searchParams.get('code')!);
      url.searchParams.set('state', f.state);
      url.searchParams.set('iss', p.callback.searchParams.get('iss')!);
      await expectPage(await f.browser.request(url.href), 400, /unexpected identity provider/);
      expect(fake.requests).not.toContain('POST /token'); // the code never reached the wrong token endpoint
    }));

  describe('forged ID tokens (fake IdP)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (nonce: string, over: Record<string, unknown> = {}): JWTPayload => {
      const c: Record<string, unknown> = { iss: fake.issuer, aud: 'fake-client', sub: 'mallory', iat: now(), exp: now() + 300, nonce, preferred_username: 'mallory' };
      for (const [k, v] of Object.entries(over)) {
        if (v === undefined) delete c[k];
        else c[k] = v;
      }
      return c;
    };

    async function deliver(idToken: (nonce: string) => Promise<string> | string) {
      const f = await loginUntilIdp('fake');
      const token = await idToken(f.nonce);
      fake.onToken = () => ({ body: { access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: token } });
      return f.browser.request(`${cw.url}/upstream/fake/callback?code=c1&state=${encodeURIComponent(f.state)}&iss=${encodeURIComponent(fake.issuer)}`);
    }

    it('sanity: a correct token signs mallory in (the fake is faithful)', async () => {
      const res = await deliver((n) => fake.sign(claims(n)));
      expect(res.status).toBe(303);
    });

    it.each([
      ['signed by another key', (n: string) => fake.sign(claims(n), { key: fake.otherKey }), /could not be verified/],
      ['alg none', (n: string) => fake.unsigned(claims(n)), /could not be verified/],
      ['HS256 with the client secret', (n: string) => new SignJWT(claims(n)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('fake-secret')), /could not be verified/],
      ['another issuer', (n: string) => fake.sign(claims(n, { iss: 'https://evil.example.com' })), /unexpected identity provider/],
      ['another audience', (n: string) => fake.sign(claims(n, { aud: 'another-client' })), /not meant for this service/],
      ['expired', (n: string) => fake.sign(claims(n, { iat: now() - 3600, exp: now() - 600 })), /expired/],
      ['the nonce of another login', () => fake.sign(claims('not-this-login')), /does not belong to this sign-in/],
    ])('an ID token %s', async (_name, idToken, message) => {
      await expectPage(await deliver(idToken), 400, message);
    });
  });
});
