import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser, forms, textOf } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { bearer, postForm, registerClient } from '../oauth2/oauth-http.js';
import { signInAndConsent, webClient } from '../login/login-flow.js';
import { matrixError, postJson, send, ssoLogin } from './compat-flow.js';

/**
 * The compatibility layer on the wire, part 2: what happens to compat sessions — `/logout`,
 * `/logout/all`, `/refresh`, revocation at /oauth2/revoke, the account page, the admin API —
 * on both databases (the token lookups and session ending are SQL of their own).
 */
const ADMIN_TOKEN = 'compat-admin-token-0123456789';

describe.each(TEST_DBS)('compatibility layer: compat sessions on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let api: string;
  let clientId: string;
  const introspect = async (token: string) => (await postForm(`${cw.url}/oauth2/introspect`, { token }, { ...bearer(SHARED_SECRET), 'x-mas-supports-device-id': '1' })).json;
  const adminUser = async (localpart: string) => (await (await fetch(`${cw.url}/api/admin/v1/users/${localpart}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { active_sessions: number };
  /** A legacy client signing in: the SSO login in `browser`, then `m.login.token`. */
  async function compatLogin(username: string, browser = new Browser(), extra: Record<string, unknown> = {}) {
    const { loginToken } = await ssoLogin(browser, cw.url, username);
    const res = await postJson(`${api}/login`, { type: 'm.login.token', token: loginToken, ...extra });
    expect(res.status).toBe(200);
    return res.json as { access_token: string; device_id: string; user_id: string; refresh_token?: string; expires_in_ms?: number };
  }
  /** Waits until the homeserver's device list of `localpart` is `devices` (sign-outs travel the event bus). */
  async function devicesBecome(localpart: string, devices: string[]) {
    const sorted = [...devices].sort();
    await hs.waitForCall(() => JSON.stringify(hs.devices(localpart)) === JSON.stringify(sorted)).catch(() => undefined);
    expect(hs.devices(localpart)).toEqual(sorted);
  }

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({ db, config: { matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET }, admin: { token: ADMIN_TOKEN } } });
    hs.setEndpoint(cw.issuer);
    api = `${cw.url}/_matrix/client/v3`;
    clientId = await registerClient(cw.url, webClient('OAuth app'));
  });
  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  describe('POST /logout', () => {
    it('token errors: none → M_MISSING_TOKEN; not Bearer → M_MISSING_TOKEN; anything but a live compat access token → M_UNKNOWN_TOKEN', async () => {
      const compat = await compatLogin('logoutcases', new Browser(), { refresh_token: true });
      const oauth = await signInAndConsent(cw.url, new Browser(), clientId, 'oauthuser', 'OAUTHDEV01');
      const logout = (headers: Record<string, string>, url = `${api}/logout`) => send(url, { headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
      expect(matrixError(await logout({}))).toEqual({ status: 401, errcode: 'M_MISSING_TOKEN', error: 'Missing access token' });
      // Bearer only: the query parameter is not read here.
      expect(matrixError(await logout({}, `${api}/logout?access_token=${compat.access_token}`))).toEqual({ status: 401, errcode: 'M_MISSING_TOKEN', error: 'Missing access token' });
      expect(matrixError(await logout({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toEqual({ status: 401, errcode: 'M_MISSING_TOKEN', error: 'Invalid Authorization header.' });
      for (const token of ['garbage', 'mct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000', oauth.access_token!, oauth.refresh_token!, compat.refresh_token!]) {
        expect(matrixError(await logout(bearer(token)))).toEqual({ status: 401, errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token' });
      }
      // Refusing the OAuth token signed nothing out.
      expect((await introspect(oauth.access_token!)).active).toBe(true);
      expect((await introspect(compat.access_token)).active).toBe(true);
    });

    it('ends the session: 200 {}, the token inactive at once, the device removed from the homeserver; a second logout is refused', async () => {
      const keep = await compatLogin('leaver');
      const leave = await compatLogin('leaver');
      await devicesBecome('leaver', [keep.device_id, leave.device_id]);
      // No Content-Type and no body: a legacy client's bare POST.
      const res = await send(`${api}/logout`, { headers: bearer(leave.access_token) });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({});
      expect(await introspect(leave.access_token)).toEqual({ active: false });
      expect((await introspect(keep.access_token)).active).toBe(true);
      await devicesBecome('leaver', [keep.device_id]);
      expect(matrixError(await send(`${api}/logout`, { headers: bearer(leave.access_token) }))).toEqual({ status: 401, errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token' });
    });
  });

  describe('POST /logout/all', () => {
    it('without {"io.element.only_compat_is_fine": true} → 404 M_UNRECOGNIZED and nothing ends; body errors come first', async () => {
      const s = await compatLogin('cautious');
      const url = `${api}/logout/all`;
      const notSupported = { status: 404, errcode: 'M_UNRECOGNIZED', error: 'The /logout/all endpoint is not supported by this deployment' };
      expect(matrixError(await send(url, { headers: bearer(s.access_token) }))).toEqual(notSupported);
      expect(matrixError(await postJson(url, {}, bearer(s.access_token)))).toEqual(notSupported);
      expect(matrixError(await postJson(url, { 'io.element.only_compat_is_fine': false }, bearer(s.access_token)))).toEqual(notSupported);
      expect(matrixError(await postJson(url, { 'io.element.only_compat_is_fine': 'yes' }, bearer(s.access_token)))).toEqual({ status: 400, errcode: 'M_BAD_JSON', error: 'JSON fields are not valid' });
      expect(matrixError(await send(url, { headers: { 'content-type': 'application/json', ...bearer(s.access_token) }, body: '{' }))).toEqual({
        status: 400,
        errcode: 'M_NOT_JSON',
        error: 'Body is not a valid JSON document',
      });
      expect(matrixError(await postJson(url, { 'io.element.only_compat_is_fine': true }))).toEqual({ status: 401, errcode: 'M_MISSING_TOKEN', error: 'Missing access token' });
      expect(matrixError(await postJson(url, { 'io.element.only_compat_is_fine': true }, bearer('mct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000')))).toEqual({
        status: 401,
        errcode: 'M_UNKNOWN_TOKEN',
        error: 'Invalid access token',
      });
      expect((await introspect(s.access_token)).active).toBe(true);
    });

    it('with it: every compat session of the user ends, the OAuth sessions and other users are untouched', async () => {
      const browser = new Browser();
      const a = await compatLogin('everywhere', browser);
      const b = await compatLogin('everywhere', browser);
      const oauth = await signInAndConsent(cw.url, new Browser(), clientId, 'everywhere', 'OAUTHKEEP1');
      const other = await compatLogin('bystander');
      const res = await postJson(`${api}/logout/all`, { 'io.element.only_compat_is_fine': true }, bearer(a.access_token));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({});
      expect(await introspect(a.access_token)).toEqual({ active: false });
      expect(await introspect(b.access_token)).toEqual({ active: false });
      expect((await introspect(oauth.access_token!)).active).toBe(true);
      expect((await introspect(other.access_token)).active).toBe(true);
      await devicesBecome('everywhere', ['OAUTHKEEP1']);
    });
  });

  describe('POST /refresh', () => {
    it('rotates: a new pair, the old access token expired at once, the old refresh token refused afterwards', async () => {
      const s = await compatLogin('rotator', new Browser(), { refresh_token: true });
      const res = await postJson(`${api}/refresh`, { refresh_token: s.refresh_token });
      expect(res.status).toBe(200);
      expect(Object.keys(res.json).sort()).toEqual(['access_token', 'expires_in_ms', 'refresh_token']);
      expect(res.json.access_token).toMatch(/^mct_/);
      expect(res.json.refresh_token).toMatch(/^mcr_/);
      expect(res.json.expires_in_ms).toBe(300_000);
      expect(await introspect(s.access_token)).toEqual({ active: false });
      const fresh = await introspect(res.json.access_token as string);
      expect(fresh).toEqual(expect.objectContaining({ active: true, username: 'rotator', device_id: s.device_id, client_id: 'legacy' }));
      expect(fresh.expires_in).toBeGreaterThan(290);
      expect(matrixError(await postJson(`${api}/refresh`, { refresh_token: s.refresh_token }))).toEqual({ status: 401, errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid refresh token' });
      // The rotated pair keeps working and refreshes again.
      expect((await postJson(`${api}/refresh`, { refresh_token: res.json.refresh_token })).status).toBe(200);
    });

    it('errors: the Content-Type is required, the body must be {"refresh_token": string}, and any other token is "Invalid refresh token"', async () => {
      const s = await compatLogin('refreshcases', new Browser(), { refresh_token: true });
      const url = `${api}/refresh`;
      const invalid = { status: 401, errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid refresh token' };
      expect(matrixError(await send(url, { body: JSON.stringify({ refresh_token: s.refresh_token }) }))).toEqual({
        status: 400,
        errcode: 'M_NOT_JSON',
        error: 'Invalid Content-Type header: expected application/json',
      });
      expect(matrixError(await postJson(url, {}))).toEqual({ status: 400, errcode: 'M_BAD_JSON', error: 'JSON fields are not valid' });
      expect(matrixError(await postJson(url, { refresh_token: 42 }))).toEqual({ status: 400, errcode: 'M_BAD_JSON', error: 'JSON fields are not valid' });
      for (const token of ['garbage', 'mcr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000', s.access_token]) expect(matrixError(await postJson(url, { refresh_token: token }))).toEqual(invalid);
      // After a logout the refresh token is dead too.
      expect((await send(`${api}/logout`, { headers: bearer(s.access_token) })).status).toBe(200);
      expect(matrixError(await postJson(url, { refresh_token: s.refresh_token }))).toEqual(invalid);
    });
  });

  describe('sessions ending elsewhere', () => {
    it('revoking an mct_ or mcr_ token at /oauth2/revoke ends the compat session', async () => {
      const a = await compatLogin('revoked', new Browser(), { refresh_token: true });
      const b = await compatLogin('revoked', new Browser(), { refresh_token: true });
      expect((await postForm(`${cw.url}/oauth2/revoke`, { token: a.access_token, token_type_hint: 'access_token' })).status).toBe(200);
      expect((await postForm(`${cw.url}/oauth2/revoke`, { token: b.refresh_token!, token_type_hint: 'access_token' })).status).toBe(200);
      expect(await introspect(a.access_token)).toEqual({ active: false });
      expect(await introspect(b.access_token)).toEqual({ active: false });
      expect(matrixError(await postJson(`${api}/refresh`, { refresh_token: a.refresh_token }))).toEqual({ status: 401, errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid refresh token' });
      await devicesBecome('revoked', []);
    });

    it('an OAuth sign-in on the same device id replaces the compat session', async () => {
      const s = await compatLogin('upgrader', new Browser(), { device_id: 'UPGRADED01' });
      const oauth = await signInAndConsent(cw.url, new Browser(), clientId, 'upgrader', 'UPGRADED01');
      expect(await introspect(s.access_token)).toEqual({ active: false });
      expect((await introspect(oauth.access_token!)).device_id).toBe('UPGRADED01');
      await devicesBecome('upgrader', ['UPGRADED01']);
    });

    it('the account page lists compat sessions beside OAuth ones and signs them out', async () => {
      const browser = new Browser();
      const s = await compatLogin('pageuser', browser, { initial_device_display_name: 'Legacy Phone' });
      await signInAndConsent(cw.url, browser, clientId, 'pageuser', 'PAGEOAUTH1');
      let page = await browser.go(`${cw.url}/account/`);
      const text = textOf(page.body);
      expect(text).toContain('Legacy Phone (legacy-app.test) · legacy sign-in');
      expect(text).toContain(s.device_id);
      expect(text).toContain('OAuth app');
      expect(text).toContain('PAGEOAUTH1');
      const form = forms(page.body, page.url).find((f) => f.fields.session_kind === 'compat')!;
      page = await browser.submit(form);
      expect(textOf(page.body)).toContain('The device was signed out.');
      expect(textOf(page.body)).not.toContain('Legacy Phone');
      expect(await introspect(s.access_token)).toEqual({ active: false });
      await devicesBecome('pageuser', ['PAGEOAUTH1']);
      // MSC4191 device view by device id finds compat devices too.
      const other = await compatLogin('pageuser', browser, { device_id: 'VIEWABLE01' });
      const view = await browser.go(`${cw.url}/account/?action=org.matrix.device_view&device_id=VIEWABLE01`);
      expect(view.status).toBe(200);
      expect(textOf(view.body)).toContain('VIEWABLE01');
      expect((await introspect(other.access_token)).active).toBe(true);
    });

    it('the admin API counts compat sessions and "end all sessions" ends them with the OAuth ones', async () => {
      const s = await compatLogin('adminned');
      const oauth = await signInAndConsent(cw.url, new Browser(), clientId, 'adminned', 'ADMINOAUTH');
      expect((await adminUser('adminned')).active_sessions).toBe(2);
      const res = await fetch(`${cw.url}/api/admin/v1/users/adminned/sessions/end`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(await res.json()).toEqual({ ended: 2 });
      expect(await introspect(s.access_token)).toEqual({ active: false });
      expect(await introspect(oauth.access_token!)).toEqual({ active: false });
      await devicesBecome('adminned', []);
    });
  });
});
