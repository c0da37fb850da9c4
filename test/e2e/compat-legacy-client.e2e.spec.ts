import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MatrixError, OAUTH_AWARE_PREFERRED_FLOW_FIELD, SSOAction, type MatrixClient, type SSOFlow } from 'matrix-js-sdk';
import { createClient } from '../support/matrix-sdk.js';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { createSynapseDatabase, SynapseWriter } from '../support/synapse-fixture.js';
import { Browser, forms, textOf, type BrowserResponse } from '../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { errorsFor, oidcPeerWithClients, peerAdminLogout, removeOidcPeerClients, withPeerUser } from '../support/oidc-peer.js';
import { ensurePeer, type Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';

/**
 * Legacy Matrix clients sign in through Causeway (MSC3824 compatibility layer), end to end: the
 * homeserver stand-in (stable mode: `X-MAS-Supports-Device-Id`, Synapse's 2-minute introspection
 * cache) routes `/_matrix/client/*\/(login|logout|refresh)` to Causeway as the production reverse
 * proxy does, and matrix-js-sdk does what a legacy client does: `loginFlows`, `getSsoLoginUrl`, the
 * browser through the sign-in and the confirmation page, `m.login.token`, `whoami`, `refresh`,
 * `logout`. Then a user migrated from Synapse's own CAS login signs in through the real
 * django-cas-server with the IdP id Synapse gave it, and the CAS server's Single Logout ends that
 * compat session and removes its device; and the real OIDC peer's back-channel logout ends the
 * compat session of a user who signed in there.
 */
const APP = 'http://127.0.0.1:9/legacy-app';
const REDIRECT = `${APP}/#/login`;
const atApp = (u: string) => u.startsWith(APP);

const OIDC_CLIENT_ID = `causeway-compat-e2e-${randomBytes(4).toString('hex')}`;
const OIDC_CLIENT_SECRET = randomBytes(16).toString('hex');

let peer: Peer;
let oidc: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;

beforeAll(async () => {
  peer = await ensurePeer('cas');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  oidc = await oidcPeerWithClients({
    client_id: OIDC_CLIENT_ID,
    client_secret: OIDC_CLIENT_SECRET,
    redirect_uris: [`${base}upstream/corp/callback`],
    backchannel_logout_uri: `${base}upstream/corp/backchannel-logout`,
  });
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET, routeCompatToOp: true });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          { id: 'dev', kind: 'dev', name: 'Development sign-in' },
          // What Synapse's `cas_config` was: its users' external ids are imported under auth provider "cas".
          { id: 'campus', kind: 'cas', name: 'Campus login', server_url: peer.url, protocol: 3, allow_insecure_http: true, slo_allowed_from: ['127.0.0.0/8', '::1/128'], synapse_idp_id: 'cas' },
          {
            id: 'corp',
            kind: 'oidc',
            name: 'Corporate login',
            issuer: oidc.url,
            client_id: OIDC_CLIENT_ID,
            client_secret: OIDC_CLIENT_SECRET,
            allow_insecure_http: true,
            backchannel_logout: true,
            claims: { localpart: { action: 'force', template: '{{ user.preferred_username }}-corp' } },
          },
        ],
      },
    },
  });
}, 600_000);

afterAll(async () => {
  if (oidc) await removeOidcPeerClients(oidc, OIDC_CLIENT_ID);
  await cw?.dispose();
  await hs?.stop();
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
  if (hs) expect(hs.unexpectedErrors).toEqual([]);
});

/** The browser part of an SSO login: sign in where the page asks (dev form or CAS form), then Continue on the confirmation page. */
async function browse(browser: Browser, url: string, user: string): Promise<BrowserResponse & { stoppedAt?: string }> {
  let res = await browser.go(url, {}, atApp);
  for (let step = 0; step < 6 && !res.stoppedAt; step++) {
    const form = forms(res.body, res.url)[0];
    if (res.status !== 200 || !form) return res;
    // The CAS server's form (login ticket `lt`) and the OIDC peer's take a password; the dev form a display name.
    if ('password' in form.fields || 'lt' in form.fields) res = await browser.submit(form, { username: user, password: `${user}pass` }, atApp);
    else if ('username' in form.fields) res = await browser.submit(form, { username: user, displayName: '' }, atApp);
    else if (form.action.endsWith('/consent')) {
      // The confirmation page names the account and where the token goes.
      expect(textOf(res.body)).toContain('Continue to 127.0.0.1:9?');
      res = await browser.go(form.action, { method: 'POST', form: { ...form.fields, decision: 'allow' } }, atApp);
    } else return res;
  }
  return res;
}

async function loginToken(client: MatrixClient, idp: string, user: string, browser = new Browser()): Promise<string> {
  const res = await browse(browser, client.getSsoLoginUrl(REDIRECT, 'sso', idp, SSOAction.LOGIN), user);
  expect(textOf(res.body)).toBe('');
  expect(res.stoppedAt).toBeDefined();
  const back = new URL(res.stoppedAt!);
  expect(back.hash).toBe('#/login');
  return back.searchParams.get('loginToken')!;
}

/** whoami until it fails (the homeserver's cached introspection answer outlives the sign-out; the device removal ends it). */
async function whoamiFails(client: MatrixClient): Promise<unknown> {
  const deadline = Date.now() + 15_000;
  let err: unknown;
  while (Date.now() < deadline) {
    err = await client.whoami().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err) return err;
    await new Promise((r) => setTimeout(r, 100));
  }
  return err;
}

describe('a legacy client (matrix-js-sdk) signs in through Causeway', () => {
  it('login flows, SSO in the browser, m.login.token, whoami, refresh, logout → 401 once the device is gone', async () => {
    const anonymous = createClient({ baseUrl: hs.url });
    const { flows } = await anonymous.loginFlows();
    expect(flows.map((f) => f.type)).toEqual(['m.login.sso', 'm.login.token']);
    const sso = flows[0] as SSOFlow;
    expect(OAUTH_AWARE_PREFERRED_FLOW_FIELD.findIn<boolean>(sso)).toBe(true);
    expect(sso.identity_providers?.map((p) => p.id)).toEqual(['dev', 'campus', 'corp']);
    expect(anonymous.getSsoLoginUrl(REDIRECT, 'sso', 'dev', SSOAction.LOGIN)).toMatch(new RegExp(`^${hs.url}/_matrix/client/v3/login/sso/redirect/dev\\?`));

    const token = await loginToken(anonymous, 'dev', 'alice');
    const legacy = createClient({ baseUrl: hs.url });
    const login = await legacy.login('m.login.token', { token, refresh_token: true, initial_device_display_name: 'Legacy Web' } as never);
    expect(login.user_id).toBe('@alice:example.test');
    expect(login.access_token).toMatch(/^mct_/);
    expect(login.refresh_token).toMatch(/^mcr_/);
    expect(login.expires_in_ms).toBe(300_000);
    expect(hs.state.get('alice')?.devices.get(login.device_id)?.displayName).toBe('Legacy Web');

    const mx = createClient({ baseUrl: hs.url, accessToken: login.access_token, userId: login.user_id, deviceId: login.device_id });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: login.device_id }));
    // Synapse asked with X-MAS-Supports-Device-Id; the device came as a field (the scope holds only the API scopes).
    const asked = hs.introspections.filter((i) => i.body.includes(encodeURIComponent(login.access_token)));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((i) => i.headers['X-MAS-Supports-Device-Id'] === '1' && i.outcome === 'ok')).toBe(true);
    expect(await hs.authenticate(login.access_token)).toEqual({
      userId: '@alice:example.test',
      deviceId: login.device_id,
      scope: ['urn:matrix:client:api:*', 'urn:matrix:org.matrix.msc2967.client:api:*'],
      isAdmin: false,
    });

    const refreshed = await mx.refreshToken(login.refresh_token!);
    expect(refreshed.access_token).toMatch(/^mct_/);
    expect(refreshed.refresh_token).not.toBe(login.refresh_token);
    expect(refreshed.expires_in_ms).toBe(300_000);
    const mx2 = createClient({ baseUrl: hs.url, accessToken: refreshed.access_token, userId: login.user_id, deviceId: login.device_id });
    expect((await mx2.whoami()).device_id).toBe(login.device_id);

    await mx2.logout();
    const err = await whoamiFails(mx2);
    expect(hs.devices('alice')).toEqual([]);
    expect(err).toBeInstanceOf(MatrixError);
    expect((err as MatrixError).httpStatus).toBe(401);
    expect((err as MatrixError).errcode).toBe('M_UNKNOWN_TOKEN');
    await expect(mx2.refreshToken(refreshed.refresh_token!)).rejects.toMatchObject({ httpStatus: 401, errcode: 'M_UNKNOWN_TOKEN' });
  });

  it('older clients: loginWithToken (no refresh token, a token that never expires) on the device they ask for', async () => {
    const client = createClient({ baseUrl: hs.url });
    const token = await loginToken(client, 'dev', 'bob');
    const login = await client.loginRequest({ type: 'm.login.token', token, device_id: 'OLDCLIENT1' } as never);
    expect(login).toEqual({ access_token: expect.stringMatching(/^mct_/), device_id: 'OLDCLIENT1', user_id: '@bob:example.test' });
    const again = createClient({ baseUrl: hs.url });
    // The deprecated helper, as long-lived legacy clients still call it: a second login on a new device.
    const second = await again.loginWithToken(await loginToken(again, 'dev', 'bob'));
    expect(second.device_id).not.toBe('OLDCLIENT1');
    const mx = createClient({ baseUrl: hs.url, accessToken: login.access_token });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@bob:example.test', device_id: 'OLDCLIENT1' }));
    expect(hs.devices('bob')).toEqual([second.device_id, 'OLDCLIENT1'].sort());
  });
});

describe('a user migrated from Synapse’s CAS login, with a legacy client, through the real CAS server', () => {
  let browser: Browser;
  let session: { access_token: string; device_id: string; user_id: string };
  let logoutAt = 0;

  it('signs in to the same account, choosing the provider by the IdP id Synapse used ("cas")', async () => {
    // Synapse's user_external_ids row: auth_provider "cas", external_id = the CAS user name.
    const synapse = await createSynapseDatabase('sqlite', cw.dir);
    await new SynapseWriter(synapse).user({ localpart: 'robert', displayname: 'Robert (Synapse)', externalIds: { cas: 'bob' } });
    await hs.loadSynapseDatabase(synapse);
    const r = await runCli(['import', 'synapse', '--config', join(cw.dir, `gateway-${cw.port}.yaml`), '--synapse-database', synapse.url], { cwd: cw.dir });
    await synapse.drop();
    expect(r.stderr).not.toContain('import failed');
    expect(r.code).toBe(0);

    browser = new Browser();
    const client = createClient({ baseUrl: hs.url });
    const token = await loginToken(client, 'cas', 'bob', browser);
    // The browser went through the CAS server's login form.
    expect(browser.history.some((h) => h.startsWith(`POST ${peer.url}/login`))).toBe(true);
    session = await client.loginRequest({ type: 'm.login.token', token } as never);
    expect(session.user_id).toBe('@robert:example.test');
    const mx = createClient({ baseUrl: hs.url, accessToken: session.access_token });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@robert:example.test', device_id: session.device_id }));
    expect(hs.devices('robert')).toEqual([session.device_id]);
  });

  it('the CAS server’s Single Logout ends the compat session and removes its device from the homeserver', async () => {
    // bob signs out at CAS; django-cas-server POSTs a logoutRequest (naming the service ticket) to Causeway.
    logoutAt = Date.now();
    const out = await browser.go(`${peer.url}/logout`);
    expect(out.status).toBe(200);
    const introspected = await fetch(`${cw.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: session.access_token }),
    });
    expect(await introspected.json()).toEqual({ active: false });
    // robert's account came from Synapse: his ended device is deleted by itself, never by a sync_devices
    // that would sweep devices Causeway never saw.
    const call = await hs.waitForCall((c) => {
      const b = c.body as { localpart?: string; device_id?: string };
      return c.path === '/_synapse/mas/delete_device' && c.at >= logoutAt && c.status === 204 && b.localpart === 'robert' && b.device_id === session.device_id;
    }, 30_000);
    expect(hs.callsTo('sync_devices').filter((c) => (c.body as { localpart?: string }).localpart === 'robert')).toEqual([]);
    process.stdout.write(`CAS Single Logout → compat device removed at the homeserver: ${call.at - logoutAt} ms\n`);
    const err = await whoamiFails(createClient({ baseUrl: hs.url, accessToken: session.access_token }));
    expect(err).toBeInstanceOf(MatrixError);
    expect((err as MatrixError).httpStatus).toBe(401);
    // And the legacy client's own logout now finds nothing to end.
    const res = await fetch(`${hs.url}/_matrix/client/v3/logout`, { method: 'POST', headers: { authorization: `Bearer ${session.access_token}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token' });
  });
});

describe('a legacy client signed in through an upstream OIDC IdP', () => {
  // The peer's users are shared by every test file: hold bob while signing him in and logging him out.
  it('the IdP’s back-channel logout ends the compat session and removes its device', () =>
    withPeerUser(oidc, 'bob', async () => {
      const client = createClient({ baseUrl: hs.url });
      const session = await client.loginRequest({ type: 'm.login.token', token: await loginToken(client, 'corp', 'bob') } as never);
      expect(session.user_id).toBe('@bob-corp:example.test');
      const mx = createClient({ baseUrl: hs.url, accessToken: session.access_token });
      expect((await mx.whoami()).device_id).toBe(session.device_id);

      const started = Date.now();
      const out = await peerAdminLogout(oidc, 'bob');
      expect(errorsFor(out, OIDC_CLIENT_ID)).toEqual([]);
      expect(out.notified).toContain(OIDC_CLIENT_ID);
      await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && c.at >= started && c.status === 200 && !hs.devices('bob-corp').includes(session.device_id));
      const err = await whoamiFails(mx);
      expect((err as MatrixError).httpStatus).toBe(401);
    }));
});
