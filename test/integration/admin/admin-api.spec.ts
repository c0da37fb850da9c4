import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser, textOf } from '../../support/browser.js';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { authorizeUrl, devSignIn, pkce, signInAndConsent, toClient, webClient } from '../login/login-flow.js';
import { registerClient } from '../oauth2/oauth-http.js';
import { AuditLogEntity } from '../../../src/storage/entities/index.js';

/**
 * The admin API (/api/admin/v1) end to end: real sign-ins through the dev provider, then
 * deactivation (tokens refused at once, delete_user reaches the homeserver, no sign-in again, the
 * localpart stays taken), lock/unlock, ending sessions, and the API's own rules (Bearer admin
 * token, JSON errors, audit rows, off without a token).
 */
const ADMIN = 'admin-token-0123456789abcdef';

describe('admin API', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let db: CausewayDb;
  let clientId: string;

  const admin = async (method: string, path: string, body?: unknown, token: string | null = ADMIN) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${cw.url}/api/admin/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, headers: res.headers, json: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const whoami = (token: string) => fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  const introspect = async (token: string) =>
    (await (
      await fetch(`${cw.url}/oauth2/introspect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      })
    ).json()) as { active: boolean };

  beforeAll(async () => {
    // The 2-minute cache is on, as in Synapse: only removing devices signs a client out at once.
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    cw = await startCauseway({
      config: {
        matrix: { endpoint: `${hs.url}/` },
        admin: { token: ADMIN },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Development sign-in' },
            { id: 'other', kind: 'dev', name: 'Another directory' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(cw.database);
    clientId = await registerClient(cw.url, webClient('Admin test client'));
  });
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  describe('authentication and errors', () => {
    it('requires the admin token as Bearer (401 JSON with WWW-Authenticate otherwise)', async () => {
      for (const token of [null, 'wrong-token-0123456789abcdef', `${ADMIN}x`]) {
        const r = await admin('GET', '/events/status', undefined, token);
        expect(r.status).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(r.json).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
      }
      const query = await fetch(`${cw.url}/api/admin/v1/events/status?access_token=${ADMIN}`);
      expect(query.status).toBe(401);
    });
    it('unknown users and sessions are JSON 404s; bad bodies JSON 400s', async () => {
      expect(await admin('POST', '/users/nobody/lock')).toMatchObject({ status: 404, json: { error: 'not_found', error_description: 'user not found' } });
      expect(await admin('POST', '/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV/end')).toMatchObject({ status: 404, json: { error: 'not_found' } });
      await db.createUser('shape');
      expect(await admin('POST', '/users/shape/deactivate', { erase: 'yes' })).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
      expect(await admin('POST', '/users/shape/deactivate', { erase: true, extra: 1 })).toMatchObject({ status: 400 });
      expect(await admin('GET', '/events/dead-letters?limit=0')).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    });
  });

  describe('deactivation', () => {
    let tokens: Record<string, string>;

    beforeAll(async () => {
      tokens = await signInAndConsent(cw.url, new Browser(), clientId, 'erin', 'ERINDEV1', { provider: 'dev' });
      expect(await whoami(tokens.access_token!)).toBe(200);
      expect(hs.devices('erin')).toEqual(['ERINDEV1']);
    });

    it('refuses the tokens at once, delivers delete_user with erase, and removes the devices', async () => {
      const r = await admin('POST', '/users/erin/deactivate', { erase: true });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ localpart: 'erin', deactivated_at: expect.any(Number), sessions_ended: 1, active_sessions: 0 });
      expect(await introspect(tokens.access_token!)).toEqual({ active: false });
      const call = await hs.waitForCall((c) => c.path === '/_synapse/mas/delete_user', 10_000);
      expect(call).toMatchObject({ status: 200, body: { localpart: 'erin', erase: true } });
      await waitUntil(() => hs.devices('erin').length === 0, 5000, 'erin’s devices to go');
      expect(hs.user('erin')).toMatchObject({ deactivated: true, erased: true });
      // The device is gone, so Synapse refuses the token despite its cached "active" answer.
      expect(await whoami(tokens.access_token!)).toBe(401);
      const refresh = await fetch(`${cw.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }),
      });
      expect(refresh.status).toBe(400);
    });

    it('the user cannot sign in again', async () => {
      const browser = new Browser();
      const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, deviceId: 'ERINDEV2', extra: { provider: 'dev' } }), {}, toClient);
      const after = await devSignIn(browser, res, 'erin');
      expect(after.status).toBe(403);
      expect(textOf(after.body)).toContain('This account has been deactivated');
      expect(hs.devices('erin')).toEqual([]);
    });

    it('the localpart stays taken: another identity cannot get it', async () => {
      const browser = new Browser();
      const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, deviceId: 'IMPOSTOR', extra: { provider: 'other' } }), {}, toClient);
      const after = await devSignIn(browser, res, 'erin');
      expect(after.status).toBe(409);
      expect(textOf(after.body)).toContain('already exists');
      // And the homeserver agrees the name is not free.
      const free = await fetch(`${hs.url}/_synapse/mas/is_localpart_available?localpart=erin`, { headers: { authorization: `Bearer ${SHARED_SECRET}` } });
      expect(((await free.json()) as { errcode: string }).errcode).toBe('M_USER_IN_USE');
    });

    it('is audited', async () => {
      const rows = await db.ds.manager.find(AuditLogEntity, { where: { action: 'user.deactivate' } });
      expect(rows.map((r) => [r.actor, r.details?.localpart, r.details?.erase])).toContainEqual(['admin-token', 'erin', true]);
    });
  });

  describe('lock, unlock and ending sessions', () => {
    let t1: Record<string, string>;
    let t2: Record<string, string>;
    beforeAll(async () => {
      t1 = await signInAndConsent(cw.url, new Browser(), clientId, 'fred', 'FREDDEV1', { provider: 'dev' });
      t2 = await signInAndConsent(cw.url, new Browser(), clientId, 'fred', 'FREDDEV2', { provider: 'dev' });
      expect(hs.devices('fred')).toEqual(['FREDDEV1', 'FREDDEV2']);
    });

    it('ends one session: that device leaves the homeserver, the other stays', async () => {
      const session = (await db.ds.query(`SELECT id FROM oauth2_sessions WHERE device_id = 'FREDDEV1'`)) as { id: string }[];
      expect(await admin('POST', `/sessions/${session[0]!.id}/end`)).toMatchObject({ status: 200, json: { ended: true } });
      await waitUntil(() => hs.devices('fred').join() === 'FREDDEV2', 10_000, 'FREDDEV1 to be removed');
      expect(await whoami(t1.access_token!)).toBe(401);
      expect(await whoami(t2.access_token!)).toBe(200);
      expect(await admin('POST', `/sessions/${session[0]!.id}/end`)).toMatchObject({ status: 200, json: { ended: false } });
    });

    it('lock: tokens refused, sessions ended, locked reaches the homeserver; unlock lets the user back in', async () => {
      const r = await admin('POST', '/users/fred/lock');
      expect(r).toMatchObject({ status: 200, json: { localpart: 'fred', locked_at: expect.any(Number), sessions_ended: 1 } });
      expect(await introspect(t2.access_token!)).toEqual({ active: false });
      await waitUntil(() => hs.user('fred')?.locked === true && hs.devices('fred').length === 0, 10_000, 'the lock and the sign-out to reach the homeserver');
      const browser = new Browser();
      const form = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, deviceId: 'FREDLOCK', extra: { provider: 'dev' } }), {}, toClient);
      const locked = await devSignIn(browser, form, 'fred');
      expect(locked.status).toBe(403);
      expect(textOf(locked.body)).toContain('locked by an administrator');

      expect(await admin('POST', '/users/fred/unlock')).toMatchObject({ status: 200, json: { locked_at: null } });
      await waitUntil(() => hs.user('fred')?.locked === false, 10_000, 'the unlock to reach the homeserver');
      const t3 = await signInAndConsent(cw.url, new Browser(), clientId, 'fred', 'FREDDEV3', { provider: 'dev' });
      expect(await whoami(t3.access_token!)).toBe(200);
    });

    it('ends every session of a user', async () => {
      await signInAndConsent(cw.url, new Browser(), clientId, 'fred', 'FREDDEV4', { provider: 'dev' });
      expect(await admin('POST', '/users/fred/sessions/end')).toMatchObject({ status: 200, json: { ended: 2 } });
      await waitUntil(() => hs.devices('fred').length === 0, 10_000, 'every device of fred to go');
      expect(await admin('GET', '/users/fred')).toMatchObject({ status: 200, json: { localpart: 'fred', active_sessions: 0, locked_at: null } });
    });
  });

  it('bus status', async () => {
    await waitUntil(async () => (await db.undelivered()) === 0, 5000, 'every event to be marked delivered');
    const r = await admin('GET', '/events/status');
    expect(r).toMatchObject({ status: 200, json: { driver: 'in-process', undelivered: 0, oldest_undelivered_age_seconds: 0, dead_letters: 0, homeserver_down: false } });
  });
});

describe('admin API without admin.token', () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    cw = await startCauseway({});
  });
  afterAll(() => cw?.dispose());

  it('is off: no routes', async () => {
    const res = await fetch(`${cw.url}/api/admin/v1/events/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});
