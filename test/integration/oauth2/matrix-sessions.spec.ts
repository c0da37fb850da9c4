import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { pageErrorOf } from '../../../src/login/domain-error-pages.js';
import { OAuth2RefusalError } from '../../../src/oauth2/refusal.error.js';
import { OAuthSeeder } from './oauth-seeder.js';
import { bearer, postForm, registerClient } from './oauth-http.js';
import { english } from '../../support/i18n.js';

const REDIRECT = 'http://localhost:3000/cb';
const S = 'urn:matrix:client:';
const U = 'urn:matrix:org.matrix.msc2967.client:';

/**
 * Matrix logins against the homeserver stand-in (Synapse's contract): the user and device exist on
 * the homeserver before the token is handed out, Synapse accepts the token, and every sign-out
 * removes the device there (through the outbox).
 */
describe.each(TEST_DBS)('Matrix sessions on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let seed: OAuthSeeder;
  let client: string;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    // Its client registers dynamically: let it ask for urn:synapse:admin:* (refused to dynamic clients by default).
    cw = await startCauseway({ db, config: { matrix: { endpoint: hs.url }, policy: { admin_localparts: ['root'], dynamic_client_denied_scopes: [] } } });
    hs.setEndpoint(cw.issuer);
    seed = await OAuthSeeder.open(cw);
    client = await registerClient(cw.url, {
      client_name: 'Matrix client',
      client_uri: 'http://localhost:3000',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    });
  });
  afterAll(async () => {
    await seed?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  async function login(user: Awaited<ReturnType<OAuthSeeder['user']>>, device: string, ns = S, extraScope = '') {
    const c = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${ns}api:* ${ns}device:${device}${extraScope}` }, user);
    const t = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: client, code_verifier: c.verifier });
    return { ...c, ...t };
  }
  const whoami = (token: string) => fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: bearer(token) });

  it('provisions the user and device before the code, and Synapse accepts the token', async () => {
    const user = await seed.user();
    const r = await login(user, 'DEVICEAAAA');
    expect(r.status).toBe(200);
    expect(r.json.scope).toBe(`${S}api:* ${S}device:DEVICEAAAA`);
    expect(hs.user(user.localpart)).toBeDefined();
    expect(hs.devices(user.localpart)).toEqual(['DEVICEAAAA']);
    const res = await whoami(r.json.access_token as string);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user_id: `@${user.localpart}:example.test`, device_id: 'DEVICEAAAA' });
  });

  it('generates a device when the client names none: granted in the scope, created on the homeserver, seen by whoami', async () => {
    const user = await seed.user();
    const c = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${S}api:*` }, user);
    const r = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: client, code_verifier: c.verifier });
    expect(r.status).toBe(200);
    const device = /^urn:matrix:client:api:\* urn:matrix:client:device:([A-Z0-9]{10})$/.exec(r.json.scope as string)?.[1];
    expect(device).toBeDefined();
    expect(hs.devices(user.localpart)).toEqual([device]);
    expect(await (await whoami(r.json.access_token as string)).json()).toMatchObject({ device_id: device });
  });

  it('keeps the unstable namespace the client used and introspects both, with device_id for X-MAS-Supports-Device-Id', async () => {
    const user = await seed.user();
    const device = 'hbJk4+Q8/0dZ2mUeD9S8x1n0wq7u2M3pVtq0lQe4mHk';
    const r = await login(user, device, U);
    expect(r.json.scope).toBe(`${U}api:* ${U}device:${device}`);
    const info = await postForm(`${cw.url}/oauth2/introspect`, { token: r.json.access_token as string, token_type_hint: 'access_token' }, { ...bearer(SHARED_SECRET), 'x-mas-supports-device-id': '1' });
    expect(info.json).toMatchObject({ active: true, username: user.localpart, device_id: device });
    expect((info.json.scope as string).split(' ').sort()).toEqual([`${S}api:*`, `${S}device:${device}`, `${U}api:*`, `${U}device:${device}`].sort());
    expect((await whoami(r.json.access_token as string)).status).toBe(200);
  });

  it('ends the older session when the same user signs in again on the same device id', async () => {
    const user = await seed.user();
    const first = await login(user, 'SAMEDEVICE');
    const second = await login(user, 'SAMEDEVICE');
    expect(second.status).toBe(200);
    const old = await postForm(`${cw.url}/oauth2/introspect`, { token: first.json.access_token as string }, bearer(SHARED_SECRET));
    expect(old.json).toEqual({ active: false });
    expect((await whoami(second.json.access_token as string)).status).toBe(200);
    expect(hs.devices(user.localpart)).toEqual(['SAMEDEVICE']);
  });

  it('removes the device from the homeserver when the session is revoked', async () => {
    const user = await seed.user();
    const keep = await login(user, 'KEEPDEVICE');
    const gone = await login(user, 'GONEDEVICE');
    expect(hs.devices(user.localpart)).toEqual(['GONEDEVICE', 'KEEPDEVICE']);
    expect((await postForm(`${cw.url}/oauth2/revoke`, { token: gone.json.access_token as string, client_id: client })).json).toEqual({});
    await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart?: string }).localpart === user.localpart, 15_000);
    expect(hs.devices(user.localpart)).toEqual(['KEEPDEVICE']);
    const res = await whoami(gone.json.access_token as string);
    expect(res.status).toBe(401);
    expect(((await res.json()) as Record<string, unknown>).errcode).toBe('M_UNKNOWN_TOKEN');
    expect((await whoami(keep.json.access_token as string)).status).toBe(200);
  });

  it('ends the session and removes the device when a rotated refresh token is replayed', async () => {
    const user = await seed.user();
    const s = await login(user, 'REFRESHDEV');
    const refresh = (rt: string) => postForm(`${cw.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: rt, client_id: client });
    const r1 = await refresh(s.json.refresh_token as string);
    expect((await whoami(r1.json.access_token as string)).status).toBe(200);
    expect((await refresh(s.json.refresh_token as string)).json.error).toBe('invalid_grant');
    await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart?: string }).localpart === user.localpart, 15_000);
    expect(hs.devices(user.localpart)).toEqual([]);
    expect((await whoami(r1.json.access_token as string)).status).toBe(401);
  });

  it('grants urn:synapse:admin:* only to allowed users (Synapse then treats them as admins)', async () => {
    const root = await seed.user('root');
    const admin = await login(root, 'ROOTDEVICE', S, ' urn:synapse:admin:*');
    expect(admin.status).toBe(200);
    expect((await hs.authenticate(admin.json.access_token as string)).isAdmin).toBe(true);
    const user = await seed.user();
    const refused = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${S}api:* ${S}device:NOADMIN urn:synapse:admin:*`, state: 'x' }, user);
    const q = new URLSearchParams(new URL(refused.location).search);
    expect(q.get('error')).toBe('invalid_scope');
    expect(q.get('state')).toBe('x');
    expect(refused.code).toBe('');
  });

  it('shows a clear page when the homeserver stays down, and issues no code', async () => {
    const user = await seed.user();
    await hs.goDown();
    try {
      const e = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${S}api:* ${S}device:DOWNDEVICE` }, user).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(OAuth2RefusalError);
      const page = pageErrorOf(e)!;
      expect(page.status).toBe(503);
      expect(english(page.userMessage)).toMatch(/homeserver/);
    } finally {
      await hs.comeUp();
    }
  });

  it('creates the device again at token issuance if a sign-out elsewhere removed it after the code was issued', async () => {
    const user = await seed.user();
    const c = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${S}api:* ${S}device:RACEDEVICE` }, user);
    expect(hs.devices(user.localpart)).toEqual(['RACEDEVICE']);
    hs.state.deleteDevices(hs.user(user.localpart)!, ['RACEDEVICE']); // as a devices.sync computed before this session would
    const t = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: client, code_verifier: c.verifier });
    expect(t.status).toBe(200);
    expect((await whoami(t.json.access_token as string)).status).toBe(200);
  });

  it('answers 503 (never a 4xx) and ends the new session when the homeserver is down at token issuance', async () => {
    const user = await seed.user();
    const c = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${S}api:* ${S}device:LATEDOWN01` }, user);
    await hs.goDown();
    let t;
    try {
      t = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: client, code_verifier: c.verifier });
    } finally {
      await hs.comeUp();
    }
    expect(t.status).toBe(503);
    expect(t.json.error).toBe('temporarily_unavailable');
    expect(t.json).not.toHaveProperty('errcode');
  });

  it('answers legacy Synapse (msc3861) introspecting with client credentials', async () => {
    // A second Causeway on the same database, declaring the static client legacy Synapse authenticates as.
    const cw2 = await startCauseway({
      database: cw.database,
      config: {
        matrix: { endpoint: hs.url },
        clients: [{ client_id: 'legacy-synapse', client_secret: 'legacy-synapse-secret', client_auth_method: 'client_secret_basic', introspection: true, grant_types: ['client_credentials'] }],
      },
    });
    const legacy = await startHomeserverStandin({
      mode: 'msc3861',
      cache: false,
      legacy: { issuer: cw2.issuer, clientId: 'legacy-synapse', clientSecret: 'legacy-synapse-secret', clientAuthMethod: 'client_secret_basic' },
    });
    try {
      const user = await seed.user();
      const r = await login(user, 'LEGACYDEV');
      legacy.addUser(user.localpart, { devices: ['LEGACYDEV'] });
      const requester = await legacy.authenticate(r.json.access_token as string);
      expect(requester).toMatchObject({ userId: `@${user.localpart}:example.test`, deviceId: 'LEGACYDEV' });
    } finally {
      await cw2.stop();
      await legacy.stop();
    }
  });
});
