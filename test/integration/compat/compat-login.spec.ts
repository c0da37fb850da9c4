import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { Browser, forms, textOf } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { bearer, postForm } from '../oauth2/oauth-http.js';
import { ageKvEntry, APP_REDIRECT, backTo, confirm, devForm, matrixError, postJson, send, sha256Hex, ssoLogin, ssoRedirectUrl } from './compat-flow.js';

/**
 * The compatibility layer on the wire, part 1: `GET /login`, the SSO redirect and its pages, and
 * `POST /login` (body parsing, login types, login tokens, devices). Exact status, errcode and text
 * of docs/contracts/synapse.md §5.2. One server for the file, on SQLite: nothing here depends on the
 * database (the session and token paths run on both databases in compat-sessions.spec.ts).
 */
const ADMIN_TOKEN = 'compat-admin-token-0123456789';

describe('compatibility layer: login flows, SSO redirect, POST /login', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let login: string;
  const introspect = (token: string, deviceIdHeader = true) => postForm(`${cw.url}/oauth2/introspect`, { token }, { ...bearer(SHARED_SECRET), ...(deviceIdHeader ? { 'x-mas-supports-device-id': '1' } : {}) });
  const admin = (path: string) => fetch(`${cw.url}/api/admin/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  /** A fresh login token for `username` (through the provider `staff`, whose links never clash with `dev`'s). */
  const loginToken = async (username: string, browser = new Browser()) => (await ssoLogin(browser, cw.url, username, APP_REDIRECT, { idp: 'staff' })).loginToken;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      db: 'sqlite',
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        admin: { token: ADMIN_TOKEN },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Development sign-in', brand: 'github', order: 2 },
            { id: 'staff', kind: 'dev', name: 'Staff sign-in', brand: 'university', order: 1, synapse_idp_id: 'oidc-staff' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    login = `${cw.url}/_matrix/client/v3/login`;
  });
  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  describe('GET /login', () => {
    it.each(['v3', 'r0', 'unstable'])('offers SSO (OAuth-aware preferred, stable and unstable flag, providers in picker order) and m.login.token, never passwords, on /%s/', async (version) => {
      const res = await fetch(`${cw.url}/_matrix/client/${version}/login`, { headers: { origin: 'https://app.example' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        flows: [
          {
            type: 'm.login.sso',
            // `university` is a picker style of ours, not a brand of the Matrix registry: not sent.
            identity_providers: [
              { id: 'staff', name: 'Staff sign-in' },
              { id: 'dev', name: 'Development sign-in', brand: 'github' },
            ],
            oauth_aware_preferred: true,
            'org.matrix.msc3824.delegated_oidc_compatibility': true,
          },
          { type: 'm.login.token' },
        ],
      });
    });

    it('answers CORS preflights on the JSON routes', async () => {
      for (const path of ['login', 'logout', 'logout/all', 'refresh']) {
        const res = await fetch(`${cw.url}/_matrix/client/v3/${path}`, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
        });
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-allow-methods')).toContain('POST');
        expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Content-Type/);
      }
    });
  });

  describe('GET /login/sso/redirect', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['relative', '/sso/callback'],
      ['not a URL', 'legacy app'],
      ['with a user name', 'https://user@legacy-app.test/cb'],
      ['with a user name and password', 'https://user:secret@legacy-app.test/cb'],
      ['javascript:', 'javascript:alert(1)'],
      ['data:', 'data:text/html,hi'],
    ])('refuses a %s redirectUrl with a 400 page', async (_what, redirectUrl) => {
      for (const suffix of ['', '/', '/staff']) {
        const u = new URL(`${cw.url}/_matrix/client/v3/login/sso/redirect${suffix}`);
        if (redirectUrl !== undefined) u.searchParams.set('redirectUrl', redirectUrl);
        const res = await fetch(u, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(textOf(await res.text())).toContain('Sign-in request not valid');
      }
    });

    it('sends the browser to /complete-compat-sso/{id} on Causeway (any version, with or without a trailing slash or an idp)', async () => {
      for (const url of [
        ssoRedirectUrl(cw.url, APP_REDIRECT),
        ssoRedirectUrl(cw.url, APP_REDIRECT, { version: 'r0' }),
        `${cw.url}/_matrix/client/v3/login/sso/redirect/?redirectUrl=${encodeURIComponent(APP_REDIRECT)}`,
        ssoRedirectUrl(cw.url, 'element://vector/webapp/', { idp: 'dev' }),
        ssoRedirectUrl(cw.url, 'io.element.android:/sso', { idp: 'no-such-idp' }),
      ]) {
        const res = await fetch(url, { redirect: 'manual' });
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toMatch(new RegExp(`^${cw.url}/complete-compat-sso/[0-9A-Z]{26}$`));
        // Nothing is bound to the browser on the homeserver's host (cookies there would not reach Causeway).
        expect(res.headers.getSetCookie()).toEqual([]);
      }
    });

    it('shows the picker without an idp (or with an unknown one), and the sign-up heading for action=register', async () => {
      for (const [opts, heading] of [
        [{}, 'Sign in'],
        [{ idp: 'no-such-idp' }, 'Sign in'],
        [{ action: 'register' }, 'Create an account'],
      ] as const) {
        const res = await new Browser().go(ssoRedirectUrl(cw.url, APP_REDIRECT, opts));
        expect(res.status).toBe(200);
        expect(textOf(res.body)).toContain(heading);
        expect(textOf(res.body)).toContain('Continue with Staff sign-in');
        expect(textOf(res.body)).toContain('Continue with Development sign-in');
      }
    });

    it('skips the picker for an idp named by its id or by the Synapse IdP id it replaces', async () => {
      for (const idp of ['staff', 'oidc-staff']) {
        const res = await new Browser().go(ssoRedirectUrl(cw.url, APP_REDIRECT, { idp }));
        expect(textOf(res.body)).toContain('Staff sign-in: development sign-in');
      }
    });

    it('ends on a confirmation page naming the account and the redirect host; Continue returns with a 32-character loginToken, keeping the app query and fragment', async () => {
      const browser = new Browser();
      let res = await browser.go(ssoRedirectUrl(cw.url, APP_REDIRECT, { idp: 'staff' }));
      res = await devForm(browser, res, 'confirmer', backTo(APP_REDIRECT));
      expect(res.url).toMatch(new RegExp(`^${cw.url}/login/[0-9A-Z]{26}$`));
      const page = textOf(res.body);
      expect(page).toContain('Continue to legacy-app.test?');
      expect(page).toContain('@confirmer:example.test');
      expect(page).toContain('Only continue if you started this sign-in yourself');
      const done = await confirm(browser, res, 'allow', backTo(APP_REDIRECT));
      const back = new URL(done.stoppedAt!);
      expect(`${back.origin}${back.pathname}`).toBe('http://legacy-app.test/sso/callback');
      expect(back.searchParams.get('client')).toBe('legacy');
      expect(back.searchParams.get('loginToken')).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(back.search.indexOf('client=legacy')).toBeLessThan(back.search.indexOf('loginToken='));
      expect(back.hash).toBe('#/login');
      // The homeserver knows the user before any device is asked for.
      expect(hs.user('confirmer')).toBeDefined();
    });

    it('a browser already signed in at Causeway goes straight to the confirmation page; app URL schemes are named by scheme and host', async () => {
      const browser = new Browser();
      await ssoLogin(browser, cw.url, 'returning', APP_REDIRECT, { idp: 'staff' });
      const res = await browser.go(ssoRedirectUrl(cw.url, 'element://vector/webapp/'));
      expect(textOf(res.body)).toContain('Continue to element://vector?');
      const done = await confirm(browser, res, 'allow', backTo('element://vector/webapp/'));
      expect(done.stoppedAt).toMatch(/^element:\/\/vector\/webapp\/\?loginToken=[A-Za-z0-9]{32}$/);
    });

    it('Cancel sends nothing to the app', async () => {
      const browser = new Browser();
      let res = await browser.go(ssoRedirectUrl(cw.url, APP_REDIRECT, { idp: 'staff' }));
      res = await devForm(browser, res, 'canceller', backTo(APP_REDIRECT));
      res = await confirm(browser, res, 'deny', backTo(APP_REDIRECT));
      expect(res.stoppedAt).toBeUndefined();
      expect(res.status).toBe(200);
      expect(textOf(res.body)).toContain('Sign-in cancelled');
    });

    it('the /complete-compat-sso link belongs to the first browser that opens it, and expires 30 minutes after the redirect', async () => {
      const first = await fetch(ssoRedirectUrl(cw.url, APP_REDIRECT, { idp: 'staff' }), { redirect: 'manual' });
      const link = first.headers.get('location')!;
      const mine = new Browser();
      expect((await mine.go(link)).status).toBe(200);
      const again = await mine.request(link);
      expect(again.status).toBe(303);
      expect(again.location).toMatch(new RegExp(`^${cw.url}/login/[0-9A-Z]{26}$`));
      const stranger = await new Browser().request(link);
      expect(stranger.status).toBe(403);
      expect(textOf(stranger.body)).toContain('started in another browser');

      const late = await fetch(ssoRedirectUrl(cw.url, APP_REDIRECT), { redirect: 'manual' });
      const lateLink = late.headers.get('location')!;
      await ageKvEntry(cw, `compat-sso:${lateLink.split('/').pop()}`, 'createdAt', 30 * 60_000 + 1000);
      const expired = await new Browser().request(lateLink);
      expect(expired.status).toBe(400);
      expect(textOf(expired.body)).toContain('Sign-in expired');
      expect((await new Browser().request(`${cw.url}/complete-compat-sso/01JUNKNOWN0000000000000000`)).status).toBe(400);
    });
  });

  describe('POST /login: body parsing', () => {
    it.each([
      ['a non-JSON Content-Type', { 'content-type': 'text/plain' }, '{"type":"m.login.password","password":"x"}', 400, 'M_NOT_JSON', 'Invalid Content-Type header: expected application/json'],
      ['a form Content-Type', { 'content-type': 'application/x-www-form-urlencoded' }, 'type=m.login.token', 400, 'M_NOT_JSON', 'Invalid Content-Type header: expected application/json'],
      ['an unparsable Content-Type', { 'content-type': 'not a media type' }, '{}', 400, 'M_NOT_JSON', 'Invalid Content-Type header: expected application/json'],
      ['an empty body', { 'content-type': 'application/json' }, '', 400, 'M_NOT_JSON', 'Body is not a valid JSON document'],
      ['an empty body without Content-Type', {}, '', 400, 'M_NOT_JSON', 'Body is not a valid JSON document'],
      ['truncated JSON', { 'content-type': 'application/json' }, '{"type":', 400, 'M_NOT_JSON', 'Body is not a valid JSON document'],
      ['trailing garbage', { 'content-type': 'application/json' }, '{"type":"m.login.token"} x', 400, 'M_NOT_JSON', 'Body is not a valid JSON document'],
      ['invalid UTF-8', { 'content-type': 'application/json' }, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 400, 'M_NOT_JSON', 'Body is not a valid JSON document'],
      ['an array', { 'content-type': 'application/json' }, '[]', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['a string', { 'content-type': 'application/json' }, '"m.login.token"', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['no type', { 'content-type': 'application/json' }, '{"token":"x"}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['a numeric type', { 'content-type': 'application/json' }, '{"type":1}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['a token login without token', { 'content-type': 'application/json' }, '{"type":"m.login.token"}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['a numeric token', { 'content-type': 'application/json' }, '{"type":"m.login.token","token":123}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['refresh_token as a string', { 'content-type': 'application/json' }, '{"type":"m.login.token","token":"x","refresh_token":"yes"}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['refresh_token null', { 'content-type': 'application/json' }, '{"type":"m.login.token","token":"x","refresh_token":null}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['a numeric device_id', { 'content-type': 'application/json' }, '{"type":"m.login.token","token":"x","device_id":7}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['a password login without password', { 'content-type': 'application/json' }, '{"type":"m.login.password","user":"alice"}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
      ['an m.id.user identifier without user', { 'content-type': 'application/json' }, '{"type":"m.login.password","identifier":{"type":"m.id.user"},"password":"x"}', 400, 'M_BAD_JSON', 'JSON fields are not valid'],
    ] as [string, Record<string, string>, string | Buffer, number, string, string][])('%s', async (_what, headers, body, status, errcode, error) => {
      expect(matrixError(await send(login, { headers, body }))).toEqual({ status, errcode, error });
    });

    it('a body over http.body_limit → 413 M_TOO_LARGE', async () => {
      const body = JSON.stringify({ type: 'm.login.token', token: 'x', padding: 'x'.repeat(300 * 1024) });
      expect(matrixError(await send(login, { headers: { 'content-type': 'application/json' }, body }))).toEqual({ status: 413, errcode: 'M_TOO_LARGE', error: 'Request body too large' });
    });

    it('the Content-Type is optional, and any application/…+json is JSON (unknown fields ignored)', async () => {
      const body = '{"type":"m.login.token","token":"not-a-login-token","unknown":{"x":1}}';
      const variants: Record<string, string>[] = [{}, { 'content-type': 'application/json; charset=utf-8' }, { 'content-type': 'application/vnd.matrix+json' }];
      for (const headers of variants) {
        expect(matrixError(await send(login, { headers, body }))).toEqual({ status: 403, errcode: 'M_FORBIDDEN', error: 'Invalid login token' });
      }
    });
  });

  describe('POST /login: login types', () => {
    it.each([
      ['m.login.password (Causeway has no passwords)', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'secret' }],
      ['m.login.password with the deprecated user field', { type: 'm.login.password', user: '@alice:example.test', password: 'secret' }],
      ['an unknown identifier type', { type: 'm.login.password', identifier: { type: 'm.id.thirdparty', medium: 'email' }, password: 'x' }],
      ['m.login.sso (a browser flow, not a POST)', { type: 'm.login.sso' }],
      ['m.login.jwt', { type: 'org.matrix.login.jwt', token: 'x' }],
    ])('%s → 400 M_UNKNOWN "Invalid login type"', async (_what, body) => {
      expect(matrixError(await postJson(login, body))).toEqual({ status: 400, errcode: 'M_UNKNOWN', error: 'Invalid login type' });
    });

    it('m.login.application_service → 400 M_APPSERVICE_LOGIN_UNSUPPORTED (SPEC v1.17)', async () => {
      const res = await postJson(login, { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: 'bridge' } }, { authorization: 'Bearer as_token' });
      expect(res.status).toBe(400);
      expect(res.json.errcode).toBe('M_APPSERVICE_LOGIN_UNSUPPORTED');
    });
  });

  describe('POST /login: m.login.token', () => {
    it.each([
      [
        'unknown',
        () =>
          randomBytes(24)
            .toString('base64')
            .replace(/[^A-Za-z0-9]/g, 'a')
            .slice(0, 32),
      ],
      ['malformed', () => 'not a token'],
      ['empty', () => ''],
    ])('an %s token → 403 M_FORBIDDEN "Invalid login token"', async (_what, token) => {
      expect(matrixError(await postJson(login, { type: 'm.login.token', token: token() }))).toEqual({ status: 403, errcode: 'M_FORBIDDEN', error: 'Invalid login token' });
    });

    it('is single-use', async () => {
      const token = await loginToken('onceonly');
      expect((await postJson(login, { type: 'm.login.token', token })).status).toBe(200);
      expect(matrixError(await postJson(login, { type: 'm.login.token', token }))).toEqual({ status: 403, errcode: 'M_FORBIDDEN', error: 'Invalid login token' });
    });

    it('more than 30 s after the SSO login → 403 M_FORBIDDEN "Login token expired"', async () => {
      const token = await loginToken('slowpoke');
      await ageKvEntry(cw, `compat-login-token:${sha256Hex(token)}`, 'fulfilledAt', 30_001);
      expect(matrixError(await postJson(login, { type: 'm.login.token', token }))).toEqual({ status: 403, errcode: 'M_FORBIDDEN', error: 'Login token expired' });
    });

    it('without refresh_token: a non-expiring mct_ token on a generated 10-character device, created on the homeserver with its display name', async () => {
      const token = await loginToken('plain');
      const res = await postJson(login, { type: 'm.login.token', token, initial_device_display_name: 'Legacy Desktop' });
      expect(res.status).toBe(200);
      expect(Object.keys(res.json).sort()).toEqual(['access_token', 'device_id', 'user_id']);
      expect(res.json.access_token).toMatch(/^mct_[A-Za-z0-9]{30}_[A-Za-z0-9]{6}$/);
      expect(res.json.device_id).toMatch(/^[A-Za-z0-9]{10}$/);
      expect(res.json.user_id).toBe('@plain:example.test');
      expect(hs.devices('plain')).toEqual([res.json.device_id]);
      expect(hs.state.users.get('@plain:example.test')?.devices.get(res.json.device_id as string)?.displayName).toBe('Legacy Desktop');
      const i = await introspect(res.json.access_token as string);
      expect(i.json).toEqual({
        active: true,
        scope: 'urn:matrix:client:api:* urn:matrix:org.matrix.msc2967.client:api:*',
        client_id: 'legacy',
        username: 'plain',
        sub: expect.any(String),
        token_type: 'access_token',
        iat: expect.any(Number),
        nbf: expect.any(Number),
        device_id: res.json.device_id,
      });
    });

    it('with refresh_token: true → an mcr_ refresh token and expires_in_ms (compat.token_ttl, 300 s); introspection has exp and expires_in', async () => {
      const res = await postJson(login, { type: 'm.login.token', token: await loginToken('refresher'), refresh_token: true });
      expect(res.status).toBe(200);
      expect(res.json.refresh_token).toMatch(/^mcr_[A-Za-z0-9]{30}_[A-Za-z0-9]{6}$/);
      expect(res.json.expires_in_ms).toBe(300_000);
      const i = await introspect(res.json.access_token as string);
      expect(i.json.expires_in).toBeGreaterThan(290);
      expect(i.json.expires_in).toBeLessThanOrEqual(300);
      expect(i.json.exp).toEqual(expect.any(Number));
    });

    it('without X-MAS-Supports-Device-Id the device is in the scope; a device id that cannot be a scope token is refused (stricter than MAS)', async () => {
      const a = await postJson(login, { type: 'm.login.token', token: await loginToken('scoped'), device_id: 'SCOPEDDEV1' });
      expect((await introspect(a.json.access_token as string, false)).json).toEqual(
        expect.objectContaining({
          active: true,
          scope: 'urn:matrix:client:api:* urn:matrix:client:device:SCOPEDDEV1 urn:matrix:org.matrix.msc2967.client:api:* urn:matrix:org.matrix.msc2967.client:device:SCOPEDDEV1',
        }),
      );
      expect((await introspect(a.json.access_token as string, false)).json.device_id).toBeUndefined();

      // MAS would create it and then answer "inactive" to every Synapse that reads the device from the
      // scope; Causeway holds compat device ids to the OAuth grammar (issue 13), before the token is used.
      const token = await loginToken('spacey');
      const b = await postJson(login, { type: 'm.login.token', token, device_id: 'MY "DEVICE"' });
      expect(matrixError(b)).toEqual({ status: 400, errcode: 'M_INVALID_PARAM', error: 'device_id may only hold printable ASCII without spaces, quotes or backslashes' });
      expect(hs.devices('spacey')).toEqual([]);
      expect((await postJson(login, { type: 'm.login.token', token, device_id: 'MY_DEVICE' })).status).toBe(200);
    });

    it('an invalid device_id or a display name over 100 characters is refused', async () => {
      const token = await loginToken('picky');
      expect(matrixError(await postJson(login, { type: 'm.login.token', token, device_id: '' }))).toEqual({ status: 400, errcode: 'M_INVALID_PARAM', error: 'device_id must be 1 to 255 characters' });
      expect(matrixError(await postJson(login, { type: 'm.login.token', token, device_id: 'D'.repeat(256) }))).toEqual({ status: 400, errcode: 'M_INVALID_PARAM', error: 'device_id must be 1 to 255 characters' });
      expect(matrixError(await postJson(login, { type: 'm.login.token', token, initial_device_display_name: 'n'.repeat(101) }))).toEqual({
        status: 400,
        errcode: 'M_TOO_LARGE',
        error: 'Device display name is too long (max 100)',
      });
    });

    it('reusing a device_id ends the session that held it (the device stays on the homeserver)', async () => {
      const browser = new Browser();
      const first = await postJson(login, { type: 'm.login.token', token: await loginToken('reuser', browser), device_id: 'REUSEDDEV1' });
      const second = await postJson(login, { type: 'm.login.token', token: await loginToken('reuser', browser), device_id: 'REUSEDDEV1' });
      expect(second.status).toBe(200);
      expect(second.json.device_id).toBe('REUSEDDEV1');
      expect((await introspect(first.json.access_token as string)).json).toEqual({ active: false });
      expect((await introspect(second.json.access_token as string)).json.active).toBe(true);
      await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart?: string }).localpart === 'reuser' && c.status === 200);
      expect(hs.devices('reuser')).toEqual(['REUSEDDEV1']);
    });

    it('a locked account → 401 M_USER_LOCKED; a deactivated one → 403 M_USER_DEACTIVATED', async () => {
      const lockedToken = await loginToken('lockme');
      expect((await admin('users/lockme/lock')).status).toBe(200);
      expect(matrixError(await postJson(login, { type: 'm.login.token', token: lockedToken }))).toEqual({ status: 401, errcode: 'M_USER_LOCKED', error: 'User account has been locked' });

      const goneToken = await loginToken('deactivateme');
      expect((await admin('users/deactivateme/deactivate')).status).toBe(200);
      expect(matrixError(await postJson(login, { type: 'm.login.token', token: goneToken }))).toEqual({ status: 403, errcode: 'M_USER_DEACTIVATED', error: 'This account has been deactivated' });
    });

    it('a token whose browser session was signed out meanwhile → 403 "Invalid login token"', async () => {
      const browser = new Browser();
      const token = await loginToken('signedout', browser);
      const page = await browser.go(`${cw.url}/end-session`);
      const form = forms(page.body, page.url).find((f) => f.method === 'POST')!;
      await browser.submit(form);
      expect(matrixError(await postJson(login, { type: 'm.login.token', token }))).toEqual({ status: 403, errcode: 'M_FORBIDDEN', error: 'Invalid login token' });
    });

    it('the homeserver refusing the device → 500 M_UNKNOWN, the session ended and a device sync queued', async () => {
      const token = await loginToken('hsdown');
      hs.setFault({ kind: 'error', status: 500 }, /^\/_synapse\/mas\/upsert_device$/);
      try {
        expect(matrixError(await postJson(login, { type: 'm.login.token', token, device_id: 'DOOMEDDEV1' }))).toEqual({ status: 500, errcode: 'M_UNKNOWN', error: 'Internal server error' });
      } finally {
        hs.setFault({ kind: 'none' });
      }
      const user = (await (await fetch(`${cw.url}/api/admin/v1/users/hsdown`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { active_sessions: number };
      expect(user.active_sessions).toBe(0);
      await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart?: string }).localpart === 'hsdown' && c.status === 200);
      expect(hs.devices('hsdown')).toEqual([]);
    });
  });
});
