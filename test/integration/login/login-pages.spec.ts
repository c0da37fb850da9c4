import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'node-html-parser';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser, forms, textOf } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, devSignIn, exchange, onlyForm, pkce, REDIRECT, signInAndConsent, toClient, webClient } from './login-flow.js';

const LOGIN_TTL_S = 30;

/** The page headers every HTML page carries (PAGE_HEADERS). */
function expectPageHeaders(headers: Headers) {
  expect(headers.get('content-type')).toMatch(/^text\/html/);
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(headers.get('x-frame-options')).toBe('DENY');
}

describe.each(TEST_DBS)('login pages on %s', (db) => {
  let hs: HomeserverStandin;
  /** One provider: the picker is skipped. */
  let single: CausewayProcess;
  /** Three providers (ordered), one asking for a username, a short login lifetime. */
  let multi: CausewayProcess;
  let clientA: string;
  let clientB: string;
  let multiClient: string;
  /** A login started at the beginning, checked once it has expired. */
  let staleLogin: { browser: Browser; loginUrl: string; startedAt: number };

  const whoami = (token: string) => fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    const matrix = { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET };
    [single, multi] = await Promise.all([
      startCauseway({ db, config: { matrix } }),
      startCauseway({
        db,
        config: {
          matrix,
          login: { ttl: LOGIN_TTL_S },
          upstream: {
            providers: [
              { id: 'zeta', kind: 'dev', name: 'Zeta login', brand: 'github', order: 2 },
              { id: 'alpha', kind: 'dev', name: 'Alpha login', brand: 'google', order: 1, claims: { localpart: { action: 'suggest' } } },
              { id: 'plain', kind: 'dev', name: 'Plain login' },
            ],
          },
        },
      }),
    ]);
    hs.setEndpoint(single.issuer);
    clientA = await registerClient(single.url, webClient('Client A'));
    clientB = await registerClient(single.url, webClient('Client B'));
    multiClient = await registerClient(multi.url, webClient('Multi client'));

    const browser = new Browser();
    const res = await browser.go(authorizeUrl(multi.url, { clientId: multiClient, challenge: pkce().challenge }));
    expect(res.status).toBe(200);
    staleLogin = { browser, loginUrl: res.url, startedAt: Date.now() };
  });
  afterAll(async () => {
    await Promise.all([single?.dispose(), multi?.dispose()]);
    await hs?.stop();
  });

  describe('with a single provider', () => {
    it('skips the picker, signs in with the dev form, asks consent once, and the token works on the homeserver', async () => {
      const browser = new Browser();
      const p = pkce();
      const first = await browser.request(authorizeUrl(single.url, { clientId: clientA, challenge: p.challenge, state: 'state-A' }));
      expect(first.status).toBe(303);
      expect(first.location).toMatch(/\/upstream\/dev\/dev-login\?state=/);
      const cookie = first.headers.getSetCookie().find((c) => c.startsWith('causeway_login='));
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).not.toMatch(/Secure/i);

      const form = await browser.go(first.location!);
      expectPageHeaders(form.headers);
      let res = await devSignIn(browser, form, 'alice', 'Alice A.');
      expect(res.status).toBe(200);
      expectPageHeaders(res.headers);
      const text = textOf(res.body);
      expect(text).toContain('Allow access?');
      expect(text).toContain('Client A');
      expect(text).toContain('localhost:3000');
      expect(text).toContain('@alice:example.test');
      expect(text).toContain('read and send messages');
      expect(text).toContain('DEVICE0001');

      res = await decide(browser, res, 'allow');
      expect(res.stoppedAt).toBeDefined();
      const back = codeOf(res.stoppedAt!);
      expect(back.state).toBe('state-A');
      expect(res.stoppedAt!.startsWith(`${REDIRECT}&`)).toBe(true);
      const tokens = await exchange(single.url, clientA, back.code!, p.verifier);
      expect(tokens.status).toBe(200);
      const me = await whoami(tokens.json.access_token!);
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: 'DEVICE0001' }));
      // The profile reaches the homeserver through the event bus (outbox).
      for (let i = 0; i < 100 && hs.user('alice')?.displayName !== 'Alice A.'; i++) await new Promise((r) => setTimeout(r, 100));
      expect(hs.user('alice')?.displayName).toBe('Alice A.');

      // Same browser, same client: the session is reused and consent is not asked again.
      const again = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge, deviceId: 'DEVICE0002' }), {}, toClient);
      expect(again.stoppedAt).toBeDefined();
      expect(codeOf(again.stoppedAt!).code).toBeTruthy();

      // Another client: consent again (no sign-in).
      const other = await browser.go(authorizeUrl(single.url, { clientId: clientB, challenge: pkce().challenge, deviceId: 'DEVICE0003' }), {}, toClient);
      expect(other.stoppedAt).toBeUndefined();
      expect(textOf(other.body)).toContain('Client B');
      expect(textOf(other.body)).toContain('Allow access?');
    });

    it('a second sign-in of the same person reuses the account', async () => {
      const t1 = await signInAndConsent(single.url, new Browser(), clientA, 'bob', 'BOBDEVICE1');
      const t2 = await signInAndConsent(single.url, new Browser(), clientA, 'bob', 'BOBDEVICE2');
      const [a, b] = await Promise.all([whoami(t1.access_token!), whoami(t2.access_token!)]);
      expect(((await a.json()) as { user_id: string }).user_id).toBe('@bob:example.test');
      expect(((await b.json()) as { user_id: string }).user_id).toBe('@bob:example.test');
      expect(hs.devices('bob')).toEqual(['BOBDEVICE1', 'BOBDEVICE2']);
    });

    it('Cancel on the consent page sends access_denied with the state back to the client', async () => {
      const browser = new Browser();
      let res = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge, state: 'st-cancel' }), {}, toClient);
      res = await devSignIn(browser, res, 'carol');
      res = await decide(browser, res, 'deny');
      expect(codeOf(res.stoppedAt!)).toEqual({ code: null, state: 'st-cancel', error: 'access_denied' });
    });

    it('prompt=create does not reuse the browser session and opens the sign-up form', async () => {
      const browser = new Browser();
      await signInAndConsent(single.url, browser, clientA, 'rita', 'RITADEV001');
      const res = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge, prompt: 'create' }), {}, toClient);
      expect(res.stoppedAt).toBeUndefined();
      expect(res.url).toContain('/upstream/dev/dev-login');
      expect(textOf(res.body)).toContain('Create an account');
    });

    it('prompt=none without a browser session redirects login_required with the state', async () => {
      const res = await new Browser().go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge, prompt: 'none', state: 'st-none' }), {}, toClient);
      expect(codeOf(res.stoppedAt!)).toEqual({ code: null, state: 'st-none', error: 'login_required' });
    });

    it('an event that is not valid in the current state is a 400 page', async () => {
      const browser = new Browser();
      const form = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge }));
      const consent = await devSignIn(browser, form, 'dave');
      const loginUrl = consent.url;
      // Choosing a provider while the login waits for consent.
      const csrf = onlyForm(consent, (f) => f.action.endsWith('/consent')).fields._csrf!;
      const res = await browser.request(`${loginUrl}/provider`, { method: 'POST', form: { _csrf: csrf, provider: 'dev' } });
      expect(res.status).toBe(400);
      expectPageHeaders(res.headers);
      expect(textOf(res.body)).toContain('This step is not possible now');
    });

    it('a double-submitted Allow issues one code: the second request finds the login finished', async () => {
      const browser = new Browser();
      const consent = await devSignIn(browser, await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge })), 'sam');
      const form = onlyForm(consent, (f) => f.action.endsWith('/consent'));
      const fields = { ...form.fields, decision: 'allow' };
      const answers = await Promise.all([0, 1, 2].map(() => browser.request(form.action, { method: 'POST', form: fields })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([303, 400, 400]);
      const winner = answers.find((a) => a.status === 303)!;
      expect(codeOf(winner.location!).code).toBeTruthy();
      for (const loser of answers.filter((a) => a.status === 400)) expect(textOf(loser.body)).toContain('This step is not possible now');
    });

    it('a form without its CSRF token is refused with a 403 page', async () => {
      const browser = new Browser();
      const form = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge }));
      const consent = await devSignIn(browser, form, 'erin');
      const action = onlyForm(consent, (f) => f.action.endsWith('/consent')).action;
      const missing = await browser.request(action, { method: 'POST', form: { decision: 'allow' } });
      expect(missing.status).toBe(403);
      expectPageHeaders(missing.headers);
      expect(textOf(missing.body)).toContain('Form expired');
      const forged = await browser.request(action, { method: 'POST', form: { decision: 'allow', _csrf: 'abc-def' } });
      expect(forged.status).toBe(403);
      // The login is untouched: the real form still works.
      const ok = await decide(browser, consent, 'allow');
      expect(codeOf(ok.stoppedAt!).code).toBeTruthy();
    });

    it('a replayed or unknown upstream state is a clear 400 page', async () => {
      const browser = new Browser();
      const page = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge }));
      const form = onlyForm(page, (f) => 'username' in f.fields);
      const fields = { ...form.fields, username: 'frank' };
      const first = await browser.request(form.action, { method: 'POST', form: fields });
      expect(first.status).toBe(303);
      const resume = first.location!;
      expect(resume).toMatch(/\/upstream\/dev\/callback\/resume\/[A-Za-z0-9_-]{43}$/);
      expect((await browser.request(resume)).status).toBe(303);
      // The parked callback is single-use, and so is the state it carried.
      const again = await browser.request(resume);
      expect(again.status).toBe(400);
      expectPageHeaders(again.headers);
      const replay = await browser.request(form.action, { method: 'POST', form: fields });
      expect(replay.status).toBe(400);
      expectPageHeaders(replay.headers);
      expect(textOf(replay.body)).toContain('Sign-in link not valid');
      const unknown = await browser.request(form.action, { method: 'POST', form: { ...fields, state: 'not-a-state' } });
      expect(unknown.status).toBe(400);
      const none = await browser.request(form.action, { method: 'POST', form: { username: 'x' } });
      expect(none.status).toBe(400);
      const badKey = await browser.request(`${single.url}/upstream/dev/callback/resume/${'A'.repeat(43)}`);
      expect(badKey.status).toBe(400);
    });

    it('a cross-site POST callback without the login cookie is parked and continues only in the browser that started it', async () => {
      const browser = new Browser();
      const page = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge }));
      const form = onlyForm(page, (f) => 'username' in f.fields);
      const loginUrl = page.url;
      // What a SameSite=Lax browser sends for a cross-site form POST: no cookies. Nothing advances yet.
      const post = () =>
        fetch(form.action, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ ...form.fields, username: 'grace' }),
        });
      const cookieless = await post();
      expect(cookieless.status).toBe(303);
      const resume = new URL(cookieless.headers.get('location')!, single.url).href;
      expect(cookieless.headers.getSetCookie()).toEqual([]);

      // Another browser following it (the attack: a victim's browser carrying the IdP's answer) is refused,
      // gets no session, and the login it answers has not moved.
      const stranger = new Browser();
      const refused = await stranger.go(resume);
      expect(refused.status).toBe(403);
      expect(textOf(refused.body)).toContain('started in another browser');
      expect(refused.headers.getSetCookie().some((c) => c.startsWith('causeway_session='))).toBe(false);
      const still = await browser.go(loginUrl);
      expect(textOf(still.body)).toContain('development sign-in');
      expect(still.headers.getSetCookie().some((c) => c.startsWith('causeway_session='))).toBe(false);

      // The state was not spent: the browser that started the login can still finish it.
      const again = await post();
      const mine = await browser.go(new URL(again.headers.get('location')!, single.url).href);
      expect(mine.status).toBe(200);
      expect(textOf(mine.body)).toContain('Allow access?');
      expect((await browser.jar.getCookies(single.url)).some((c) => c.key === 'causeway_session')).toBe(true);
      // The session cookie came with the request that started the session, not with later page loads.
      const reload = await browser.request(mine.url);
      expect(reload.headers.getSetCookie().some((c) => c.startsWith('causeway_session='))).toBe(false);
    });

    it('a GET callback from another browser leaves the state and the login untouched', async () => {
      const browser = new Browser();
      const page = await browser.go(authorizeUrl(single.url, { clientId: clientA, challenge: pkce().challenge }));
      const form = onlyForm(page, (f) => 'username' in f.fields);
      const asGet = new URL(form.action);
      for (const [k, v] of Object.entries({ ...form.fields, username: 'heidi' })) asGet.searchParams.set(k, v);
      const refused = await new Browser().go(asGet.href);
      expect(refused.status).toBe(403);
      expect(refused.headers.getSetCookie().some((c) => c.startsWith('causeway_session='))).toBe(false);
      const mine = await browser.submit(form, { username: 'heidi' });
      expect(mine.status).toBe(200);
      expect(textOf(mine.body)).toContain('Allow access?');
    });

    it('an unknown login id is a clear page', async () => {
      const res = await new Browser().request(`${single.url}/login/01ARZ3NDEKTSV4RRFFQ69G5FAV`);
      expect(res.status).toBe(403);
      expectPageHeaders(res.headers);
    });
  });

  describe('with several providers', () => {
    it('shows the picker in YAML order (`order`, then position), with brand icons, as accessible buttons', async () => {
      const browser = new Browser();
      const res = await browser.go(authorizeUrl(multi.url, { clientId: multiClient, challenge: pkce().challenge }));
      expect(res.status).toBe(200);
      expectPageHeaders(res.headers);
      expect(res.url).toMatch(/\/login\/[0-9A-Z]{26}$/);
      const html = parse(res.body);
      const buttons = html.querySelectorAll('ul.providers button[name=provider]');
      expect(buttons.map((b) => b.getAttribute('value'))).toEqual(['plain', 'alpha', 'zeta']);
      expect(buttons.map((b) => b.querySelector('span')?.text.trim())).toEqual(['Continue with Plain login', 'Continue with Alpha login', 'Continue with Zeta login']);
      for (const b of buttons) expect(b.querySelector('svg')?.getAttribute('aria-hidden')).toBe('true');
      expect(html.querySelector('fieldset legend')?.text).toContain('Choose how to sign in');
      expect(textOf(res.body)).toContain('Multi client');
      expect(res.body).not.toMatch(/<script/i);
    });

    it('login_hint=mxid:… picks the provider the account is linked to', async () => {
      await signInAndConsent(multi.url, new Browser(), multiClient, 'quinn', 'QUINNDEV01', { provider: 'zeta' });
      const res = await new Browser().request(authorizeUrl(multi.url, { clientId: multiClient, challenge: pkce().challenge, extra: { login_hint: 'mxid:@quinn:example.test' } }));
      expect(res.status).toBe(303);
      expect(res.location).toContain('/upstream/zeta/dev-login');
      expect(new URL(res.location!).searchParams.get('login_hint')).toBe('quinn');
      // An unknown account, or one on another server, shows the picker.
      const other = await new Browser().go(authorizeUrl(multi.url, { clientId: multiClient, challenge: pkce().challenge, extra: { login_hint: 'mxid:@quinn:elsewhere.test' } }));
      expect(textOf(other.body)).toContain('Choose how to sign in');
    });

    it('?provider= skips the picker', async () => {
      const res = await new Browser().request(authorizeUrl(multi.url, { clientId: multiClient, challenge: pkce().challenge, extra: { provider: 'zeta' } }));
      expect(res.status).toBe(303);
      expect(res.location).toContain('/upstream/zeta/dev-login');
    });

    it('a provider asking for the username shows the registration page; taken, invalid and reserved names are refused', async () => {
      // Someone already has "henry" (through the "plain" provider, which takes the username as is).
      await signInAndConsent(multi.url, new Browser(), multiClient, 'henry', 'HENRYDEV01', { provider: 'plain' });
      const browser = new Browser();
      const picker = await browser.go(authorizeUrl(multi.url, { clientId: multiClient, challenge: pkce().challenge }));
      const pick = onlyForm(picker, (f) => f.action.endsWith('/provider'));
      // A new identity "henry" at "alpha", which lets the user pick the username.
      const devForm = await browser.go(pick.action, { method: 'POST', form: { ...pick.fields, provider: 'alpha' } });
      expect(devForm.url).toContain('/upstream/alpha/dev-login');
      let res = await devSignIn(browser, devForm, 'henry');
      expect(res.status).toBe(200);
      expect(textOf(res.body)).toContain('Choose your username');
      const reg = onlyForm(res, (f) => f.action.endsWith('/register'));
      expect(reg.fields.localpart).toBe('henry');

      for (const [value, message] of [
        ['henry', 'already taken'],
        ['Bad Name', 'lower-case letters'],
        ['admin', 'reserved'],
        ['12345', 'digits only'],
      ] as const) {
        res = await browser.submit(
          onlyForm(res, (f) => f.action.endsWith('/register')),
          { localpart: value },
          toClient,
        );
        expect(res.status).toBe(400);
        expect(textOf(res.body)).toContain(message);
      }
      res = await browser.submit(
        onlyForm(res, (f) => f.action.endsWith('/register')),
        { localpart: 'henry.second' },
        toClient,
      );
      expect(textOf(res.body)).toContain('@henry.second:example.test');
      res = await decide(browser, res, 'allow');
      expect(codeOf(res.stoppedAt!).code).toBeTruthy();
      expect(hs.user('henry.second')).toBeDefined();
    });

    it('an expired login shows a clear page', async () => {
      const wait = staleLogin.startedAt + (LOGIN_TTL_S + 1) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const res = await staleLogin.browser.request(staleLogin.loginUrl);
      expect(res.status).toBe(400);
      expectPageHeaders(res.headers);
      expect(textOf(res.body)).toContain('Sign-in expired');
      // No form of the login's (the footer's language picker is on every page).
      const back = forms(res.body, res.url).filter((f) => !f.action.endsWith('/language'));
      expect(back).toEqual([]);
      expect(parse(res.body).querySelector('a.button')?.getAttribute('href')).toMatch(/^http:\/\/localhost:3000\/cb\?no_universal_links=true&error=access_denied/);
    }, 60_000);
  });
});
