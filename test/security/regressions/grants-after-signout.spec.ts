import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser, textOf } from '../../support/browser.js';
import { bearer, postForm, registerClient } from '../../integration/oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, devSignIn, exchange, onlyForm, pkce, REDIRECT, signInAndConsent, toClient, webClient } from '../../integration/login/login-flow.js';

/**
 * Issue 13, F4: an authorization code, or an approved device code, issued before the browser
 * session ended (sign-out, admin "sign out everywhere", upstream logout) could still be exchanged
 * for a live session. And (informational) a used code replayed by ANOTHER client ended its
 * victim's session before the code's own client was checked; `policy.admin_localparts` let the
 * first person to claim a listed, unregistered localpart become a homeserver admin.
 * F9: `/end-session` bounced browsers to any post_logout_redirect_uri a self-registered client had
 * declared, with no ID token to show the client asked for it.
 * Real sign-ins through the dev provider, on both databases.
 */
const ADMIN = 'admin-token-for-the-f4-regression-0123456789';

describe.each(TEST_DBS)('grants and sign-out (%s)', (db) => {
  let cw: CausewayProcess;
  let clientId: string;
  let otherClient: string;
  const introspect = async (token: string) => (await postForm(`${cw.url}/oauth2/introspect`, { token }, bearer(SHARED_SECRET))).json.active;

  beforeAll(async () => {
    cw = await startCauseway({ db, config: { matrix: { api: 'none' }, admin: { token: ADMIN }, tokens: { device_code_interval: 1 }, policy: { admin_localparts: ['boss', 'chief'], dynamic_client_denied_scopes: [] } } });
    clientId = await registerClient(cw.url, webClient('F4 app'));
    otherClient = await registerClient(cw.url, webClient('Another app'));
  });
  afterAll(async () => {
    await cw?.dispose();
  });

  /** Signs in through the dev provider and consents; stops at the client with the code unexchanged. */
  async function codeFor(browser: Browser, username: string, deviceId: string) {
    const p = pkce();
    let res = await browser.go(authorizeUrl(cw.url, { clientId, deviceId, challenge: p.challenge }), {}, toClient);
    if (!res.stoppedAt && textOf(res.body).includes('development sign-in')) res = await devSignIn(browser, res, username);
    if (!res.stoppedAt) res = await decide(browser, res, 'allow');
    const { code } = codeOf(res.stoppedAt!);
    return { code: code!, verifier: p.verifier };
  }
  async function signOut(browser: Browser) {
    const page = await browser.go(`${cw.url}/end-session`);
    const res = await browser.submit(onlyForm(page, (f) => f.action.endsWith('/end-session')));
    expect(textOf(res.body)).toContain('You are signed out');
  }

  it('F4: a code issued before a sign-out cannot be exchanged after it', async () => {
    const browser = new Browser();
    const c = await codeFor(browser, 'fay', 'FAYDEVICE1');
    await signOut(browser);
    const r = await exchange(cw.url, clientId, c.code, c.verifier);
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_grant');
  });

  it('F4: nor after an admin signs the user out everywhere', async () => {
    const browser = new Browser();
    const c = await codeFor(browser, 'gus', 'GUSDEVICE1');
    const ended = await fetch(`${cw.url}/api/admin/v1/users/gus/sessions/end`, { method: 'POST', headers: bearer(ADMIN) });
    expect(ended.status).toBe(200);
    const r = await exchange(cw.url, clientId, c.code, c.verifier);
    expect(r.json.error).toBe('invalid_grant');
  });

  it('F4: a device code approved before a sign-out yields no tokens after it', async () => {
    const grant = (await postForm(`${cw.url}/oauth2/device`, { client_id: clientId, scope: 'urn:matrix:client:api:* urn:matrix:client:device:HALDEVICE1' })).json as Record<string, string>;
    const browser = new Browser();
    let res = await browser.go(grant.verification_uri_complete!);
    res = await browser.submit(onlyForm(res));
    res = await devSignIn(browser, res, 'hal');
    res = await decide(browser, res, 'allow');
    expect(textOf(res.body)).toContain('Device connected');
    await signOut(browser);
    const poll = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: grant.device_code!, client_id: clientId });
    expect(poll.status).toBe(400);
    expect(poll.json.error).toBe('invalid_grant');
  });

  it('F4: without a sign-out the same flows still work', async () => {
    const c = await codeFor(new Browser(), 'ida', 'IDADEVICE1');
    const r = await exchange(cw.url, clientId, c.code, c.verifier);
    expect(r.status).toBe(200);
    expect(await introspect(r.json.access_token!)).toBe(true);
  });

  it('a used code replayed by another client ends nothing; replayed by its own client, it ends its session', async () => {
    const c = await codeFor(new Browser(), 'jon', 'JONDEVICE1');
    const first = await exchange(cw.url, clientId, c.code, c.verifier);
    expect(first.status).toBe(200);
    const foreign = await exchange(cw.url, otherClient, c.code, c.verifier);
    expect(foreign.json.error).toBe('invalid_grant');
    expect(await introspect(first.json.access_token!)).toBe(true);
    const own = await exchange(cw.url, clientId, c.code, c.verifier);
    expect(own.json.error).toBe('invalid_grant');
    expect(await introspect(first.json.access_token!)).toBe(false);
  });

  it('a localpart listed in policy.admin_localparts cannot be claimed by a first sign-in', async () => {
    const browser = new Browser();
    const p = pkce();
    const res = await browser.go(authorizeUrl(cw.url, { clientId, deviceId: 'BOSSDEVICE', challenge: p.challenge, scopePrefix: 'urn:synapse:admin:*' }), {}, toClient);
    const after = await devSignIn(browser, res, 'boss');
    expect(after.stoppedAt).toBeUndefined();
    expect(after.status).toBe(403);
    expect(textOf(after.body)).toContain('cannot be used on Matrix');
    // An ordinary name still signs in.
    await signInAndConsent(cw.url, new Browser(), clientId, 'kim', 'KIMDEVICE1');
    // A listed account an admin created beforehand signs in, and gets the admin scope.
    const created = await fetch(`${cw.url}/api/admin/v1/users`, {
      method: 'POST',
      headers: { ...bearer(ADMIN), 'content-type': 'application/json' },
      body: JSON.stringify({ localpart: 'chief', links: [{ provider: 'dev', subject: 'chief' }], skip_homeserver_check: true }),
    });
    expect(created.status).toBe(201);
    const t = await signInAndConsent(cw.url, new Browser(), clientId, 'chief', 'CHIEFDEV01', {}, 'urn:synapse:admin:*');
    expect(t.scope).toContain('urn:synapse:admin:*');
  });

  describe('F9: RP-initiated logout redirects only with an id_token_hint', () => {
    const endSession = (extra: Record<string, string> = {}) => `${cw.url}/end-session?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: REDIRECT, state: 'bye', ...extra })}`;

    it('without a hint: signs out, then stays on Causeway', async () => {
      const browser = new Browser();
      await signInAndConsent(cw.url, browser, clientId, 'lea', 'LEADEVICE1');
      const page = await browser.go(endSession(), {}, toClient);
      const res = await browser.submit(
        onlyForm(page, (f) => f.action.endsWith('/end-session')),
        {},
        toClient,
      );
      expect(res.stoppedAt).toBeUndefined();
      expect(textOf(res.body)).toContain('You are signed out');
      // Signed out already (or never signed in): no bounce either.
      const again = await browser.go(endSession(), {}, toClient);
      expect(again.stoppedAt).toBeUndefined();
      expect(again.status).toBe(200);
      // Nor through a forged cross-site POST.
      const posted = await new Browser().go(`${cw.url}/end-session`, { method: 'POST', form: { client_id: clientId, post_logout_redirect_uri: REDIRECT, state: 'x' } }, toClient);
      expect(posted.stoppedAt).toBeUndefined();
    });

    it('with a valid hint: back to the client with its state', async () => {
      const browser = new Browser();
      const t = await signInAndConsent(cw.url, browser, clientId, 'max', 'MAXDEVICE1', {}, 'openid');
      const page = await browser.go(endSession({ id_token_hint: t.id_token! }), {}, toClient);
      const res = await browser.submit(
        onlyForm(page, (f) => f.action.endsWith('/end-session')),
        {},
        toClient,
      );
      expect(res.stoppedAt).toBeDefined();
      expect(new URL(res.stoppedAt!).searchParams.get('state')).toBe('bye');
      // A tampered hint is refused outright.
      const bad = await new Browser().request(endSession({ id_token_hint: `${t.id_token!.slice(0, -4)}AAAA` }));
      expect(bad.status).toBe(400);
    });
  });
});
