import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'node-html-parser';
import pg from 'pg';
import Database from 'better-sqlite3';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { PG_URL, TEST_DBS } from '../../support/databases.js';
import { Browser, forms, textOf } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { bearer, postForm, registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, codeOf, decide, devSignIn, onlyForm, pkce, REDIRECT, signInAndConsent, toClient, webClient } from './login-flow.js';

/** Runs one SQL statement on the server's database (to lock a user as an administrator would). */
async function sql(cw: CausewayProcess, text: string, params: unknown[]) {
  if (cw.database.schema) {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${cw.database.schema}` });
    await c.connect();
    try {
      await c.query(text, params);
    } finally {
      await c.end();
    }
    return;
  }
  const file = cw.database.url.replace(/^sqlite:\/\//, '');
  const d = new Database(file);
  try {
    d.prepare(text.replace(/\$\d+/g, '?')).run(...params);
  } finally {
    d.close();
  }
}

describe.each(TEST_DBS)('device verification, account page, sign-out, locked accounts on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let clientId: string;
  const introspect = (token: string) => postForm(`${cw.url}/oauth2/introspect`, { token }, bearer(SHARED_SECRET));

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({ db, config: { matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET }, tokens: { device_code_interval: 1 } } });
    hs.setEndpoint(cw.issuer);
    clientId = await registerClient(cw.url, webClient('Element test'));
  });
  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  async function startDeviceGrant(deviceId: string) {
    const res = await postForm(`${cw.url}/oauth2/device`, { client_id: clientId, scope: `urn:matrix:client:api:* urn:matrix:client:device:${deviceId}` });
    expect(res.status).toBe(200);
    return res.json as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string };
  }
  const poll = (deviceCode: string) => postForm(`${cw.url}/oauth2/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: clientId });

  describe('device code verification page', () => {
    it('takes the user code in any case, signs in, shows client, device and code, and approves', async () => {
      const grant = await startDeviceGrant('QRDEVICE01');
      expect(grant.verification_uri).toBe(`${cw.url}/link`);
      const browser = new Browser();
      const page = await browser.go(grant.verification_uri);
      expect(page.status).toBe(200);
      expect(textOf(page.body)).toContain('Connect a device');
      // Lower case, no dash.
      let res = await browser.submit(onlyForm(page), { code: grant.user_code.replace('-', '').toLowerCase() });
      res = await devSignIn(browser, res, 'ivan');
      const text = textOf(res.body);
      expect(text).toContain('Connect a device?');
      expect(text).toContain('Element test');
      expect(text).toContain('QRDEVICE01');
      expect(text).toContain(grant.user_code);
      expect(text).toContain('@ivan:example.test');
      expect((await poll(grant.device_code)).json.error).toBe('authorization_pending');

      res = await decide(browser, res, 'allow');
      expect(res.status).toBe(200);
      expect(textOf(res.body)).toContain('Device connected');
      const tokens = await poll(grant.device_code);
      expect(tokens.status).toBe(200);
      const me = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: bearer(tokens.json.access_token as string) });
      expect(await me.json()).toEqual(expect.objectContaining({ user_id: '@ivan:example.test', device_id: 'QRDEVICE01' }));
    });

    it('verification_uri_complete pre-fills the code; Deny answers access_denied to the device', async () => {
      const grant = await startDeviceGrant('QRDEVICE02');
      const browser = new Browser();
      await signInAndConsent(cw.url, browser, clientId, 'judy', 'JUDYWEB001');
      const page = await browser.go(grant.verification_uri_complete);
      const form = onlyForm(page);
      expect(form.fields.code).toBe(grant.user_code);
      // Already signed in in this browser: straight to the confirmation.
      let res = await browser.submit(form);
      expect(textOf(res.body)).toContain('Connect a device?');
      res = await decide(browser, res, 'deny');
      expect(textOf(res.body)).toContain('Request denied');
      const answer = await poll(grant.device_code);
      expect(answer.status).toBe(400);
      expect(answer.json.error).toBe('access_denied');
    });

    it('an unknown code shows the form again with an error', async () => {
      const browser = new Browser();
      const page = await browser.go(`${cw.url}/link`);
      const res = await browser.submit(onlyForm(page), { code: 'BBBB-CCCC' });
      expect(res.status).toBe(400);
      expect(textOf(res.body)).toContain('not valid or has expired');
    });
  });

  describe('account page', () => {
    it('without a session it signs in first, then lists the devices; "Sign out" ends one', async () => {
      const browser = new Browser();
      const t1 = await signInAndConsent(cw.url, browser, clientId, 'kate', 'KATEDEV001');
      const t2 = await signInAndConsent(cw.url, new Browser(), clientId, 'kate', 'KATEDEV002');

      const fresh = new Browser();
      let res = await fresh.go(`${cw.url}/account/`);
      res = await devSignIn(fresh, res, 'kate');
      expect(res.url).toBe(`${cw.url}/account/`);
      expect(res.status).toBe(200);
      const text = textOf(res.body);
      expect(text).toContain('@kate:example.test');
      expect(text).toContain('KATEDEV001');
      expect(text).toContain('KATEDEV002');
      expect(text).toContain('Element test');

      const target = forms(res.body, res.url).filter((f) => f.fields.session_id);
      expect(target).toHaveLength(2);
      // The list is newest first: KATEDEV002 is the first form.
      res = await fresh.submit(target[0]!);
      expect(res.url).toContain('done=signed_out');
      expect(textOf(res.body)).not.toContain('KATEDEV002');
      expect((await introspect(t2.access_token!)).json.active).toBe(false);
      expect((await introspect(t1.access_token!)).json.active).toBe(true);
    });

    it('understands the MSC4191 actions and their aliases, and confirms before deleting a device', async () => {
      const browser = new Browser();
      const t = await signInAndConsent(cw.url, browser, clientId, 'leo', 'LEODEVICE1');
      let res = await browser.go(`${cw.url}/account/?action=session_view&device_id=LEODEVICE1`);
      expect(textOf(res.body)).toContain('LEODEVICE1');
      expect(textOf(res.body)).toContain('Sign out this device');
      res = await browser.go(`${cw.url}/account/?action=org.matrix.profile`);
      expect(textOf(res.body)).toContain('Development sign-in');
      res = await browser.go(`${cw.url}/account/?action=org.matrix.session_end&device_id=LEODEVICE1`);
      expect(textOf(res.body)).toContain('Sign out this device?');
      expect((await introspect(t.access_token!)).json.active).toBe(true);
      res = await browser.submit(onlyForm(res, (f) => !!f.fields.session_id));
      expect((await introspect(t.access_token!)).json.active).toBe(false);
      res = await browser.go(`${cw.url}/account/?action=org.matrix.device_view&device_id=LEODEVICE1`);
      expect(res.status).toBe(404);
    });

    it('approves a cross-signing reset on the homeserver after a confirmation', async () => {
      const browser = new Browser();
      await signInAndConsent(cw.url, browser, clientId, 'nora', 'NORADEVICE');
      hs.user('nora')!.masterKey = 'ed25519:nora-master';
      const page = await browser.go(`${cw.url}/account/?action=org.matrix.cross_signing_reset`);
      expect(textOf(page.body)).toContain('Reset your cryptographic identity?');
      expect(hs.user('nora')!.masterKeyReplaceableUntil).toBeNull();
      const res = await browser.submit(onlyForm(page, (f) => f.action.endsWith('/cross-signing-reset')));
      expect(res.status).toBe(200);
      expect(textOf(res.body)).toContain('Reset approved');
      expect(hs.user('nora')!.masterKeyReplaceableUntil).toBeGreaterThan(Date.now());
    });

    it('deactivation: explained, confirmed, then the account is gone here and on the homeserver', async () => {
      const browser = new Browser();
      const t = await signInAndConsent(cw.url, browser, clientId, 'pat', 'PATDEVICE1');
      const page = await browser.go(`${cw.url}/account/?action=org.matrix.account_deactivate`);
      expect(textOf(page.body)).toContain('This cannot be undone');
      const form = onlyForm(page, (f) => f.action.endsWith('/deactivate'));
      // Without ticking "I understand" nothing happens.
      const unconfirmed = await browser.submit(form);
      expect(unconfirmed.status).toBe(400);
      expect((await introspect(t.access_token!)).json.active).toBe(true);

      const res = await browser.submit(form, { confirm: 'yes' });
      expect(res.status).toBe(200);
      expect(textOf(res.body)).toContain('Account deactivated');
      expect((await introspect(t.access_token!)).json.active).toBe(false);
      for (let i = 0; i < 100 && !hs.user('pat')?.deactivated; i++) await new Promise((r) => setTimeout(r, 100));
      expect(hs.user('pat')?.deactivated).toBe(true);

      const again = new Browser();
      const denied = await devSignIn(again, await again.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge }), {}, toClient), 'pat');
      expect(denied.status).toBe(403);
      expect(textOf(denied.body)).toContain('deactivated');
    });

    it('a form without a valid CSRF token changes nothing', async () => {
      const browser = new Browser();
      const t = await signInAndConsent(cw.url, browser, clientId, 'mia', 'MIADEVICE1');
      const page = await browser.go(`${cw.url}/account/`);
      const form = onlyForm(page, (f) => !!f.fields.session_id);
      const res = await browser.request(form.action, { method: 'POST', form: { session_id: form.fields.session_id! } });
      expect(res.status).toBe(403);
      expect((await introspect(t.access_token!)).json.active).toBe(true);
    });
  });

  describe('RP-initiated logout', () => {
    it('validates post_logout_redirect_uri, confirms, ends the browser session and its tokens, then returns with the state', async () => {
      const browser = new Browser();
      const t = await signInAndConsent(cw.url, browser, clientId, 'nina', 'NINADEVICE', {}, 'openid');
      const bad = await browser.request(`${cw.url}/end-session?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`);
      expect(bad.status).toBe(400);
      expect(textOf(bad.body)).toContain('not registered');

      // Redirected back only with an ID token of the client (test/security/regressions: without one, no redirect).
      const url = `${cw.url}/end-session?client_id=${clientId}&id_token_hint=${t.id_token}&post_logout_redirect_uri=${encodeURIComponent(REDIRECT)}&state=bye-1`;
      const page = await browser.go(url);
      expect(page.status).toBe(200);
      expect(textOf(page.body)).toContain('@nina:example.test');
      const res = await browser.submit(
        onlyForm(page, (f) => f.action.endsWith('/end-session')),
        {},
        toClient,
      );
      expect(res.stoppedAt).toBeDefined();
      const back = new URL(res.stoppedAt!);
      expect(`${back.origin}`).toBe(CLIENT_URI);
      expect(back.searchParams.get('state')).toBe('bye-1');
      expect(back.searchParams.get('no_universal_links')).toBe('true');
      expect((await introspect(t.access_token!)).json.active).toBe(false);

      // The browser is signed out: the next authorization asks for a sign-in again.
      const next = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge }), {}, toClient);
      expect(textOf(next.body)).toContain('development sign-in');
    });

    it('accepts its own id_token_hint and derives the client from it', async () => {
      const browser = new Browser();
      const t = await signInAndConsent(cw.url, browser, clientId, 'olga', 'OLGADEVICE', {}, 'openid');
      expect(t.id_token).toBeTruthy();
      const url = `${cw.url}/end-session?id_token_hint=${t.id_token}&post_logout_redirect_uri=${encodeURIComponent(REDIRECT)}&state=bye-2`;
      const page = await browser.go(url);
      expect(textOf(page.body)).toContain('Element test');
      const res = await browser.submit(
        onlyForm(page, (f) => f.action.endsWith('/end-session')),
        {},
        toClient,
      );
      expect(new URL(res.stoppedAt!).searchParams.get('state')).toBe('bye-2');
      expect((await introspect(t.access_token!)).json.active).toBe(false);
      // Not signed in any more: the same request goes straight back.
      const again = await browser.go(url, {}, toClient);
      expect(again.stoppedAt).toBeDefined();
    });

    it('refuses an id_token_hint that Causeway did not sign', async () => {
      const forged = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"aud":"x"}').toString('base64url')}.`;
      const res = await new Browser().request(`${cw.url}/end-session?id_token_hint=${forged}`);
      expect(res.status).toBe(400);
      expect(textOf(res.body)).toContain('ID token');
    });
  });

  describe('locked and deactivated accounts', () => {
    it('cannot sign in, and see a clear page', async () => {
      await signInAndConsent(cw.url, new Browser(), clientId, 'oscar', 'OSCARDEV01');
      await sql(cw, 'UPDATE users SET locked_at = $1 WHERE localpart = $2', [Date.now(), 'oscar']);
      const browser = new Browser();
      const form = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge }), {}, toClient);
      const res = await devSignIn(browser, form, 'oscar');
      expect(res.status).toBe(403);
      expect(textOf(res.body)).toContain('Account locked');
      const back = parse(res.body).querySelector('a.button')?.getAttribute('href');
      expect(codeOf(back!).error).toBe('access_denied');

      await sql(cw, 'UPDATE users SET locked_at = NULL, deactivated_at = $1 WHERE localpart = $2', [Date.now(), 'oscar']);
      const again = new Browser();
      const res2 = await devSignIn(again, await again.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge }), {}, toClient), 'oscar');
      expect(res2.status).toBe(403);
      expect(textOf(res2.body)).toContain('deactivated');
    });
  });
});
