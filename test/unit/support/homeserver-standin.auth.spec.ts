import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startScriptedOp, type ScriptedOp } from './scripted-op.js';

/**
 * The stand-in's client authentication must match Synapse's (docs/contracts/synapse.md §2, §7 items
 * 1–7), or every test that relies on it lies. Driven against a scripted OP.
 */

const SECRET = 'standin-secret-0123456789';
const API = 'urn:matrix:client:api:*';
const UNSTABLE_API = 'urn:matrix:org.matrix.msc2967.client:api:*';
const dev = (id: string) => `urn:matrix:client:device:${id}`;
const udev = (id: string) => `urn:matrix:org.matrix.msc2967.client:device:${id}`;

let op: ScriptedOp;
let hs: HomeserverStandin;

beforeAll(async () => {
  op = await startScriptedOp();
  hs = await startHomeserverStandin({ endpoint: `${op.url}/`, secret: SECRET });
  hs.addUser('alice', { devices: ['ADEV'] });
  hs.addUser('bob', { devices: ['BDEV'] });
});
afterAll(async () => {
  await hs?.stop();
  await op?.stop();
});
beforeEach(() => {
  hs.clearCache();
  hs.setCacheEnabled(true);
  hs.setFault({ kind: 'none' });
  op.defaultAnswer = { body: { active: false } };
});

async function whoami(token?: string, init: { header?: string; query?: string } = {}) {
  const q = init.query !== undefined ? `?access_token=${encodeURIComponent(init.query)}` : '';
  const headers: Record<string, string> = {};
  if (init.header !== undefined) headers.Authorization = init.header;
  else if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${hs.url}/_matrix/client/v3/account/whoami${q}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('access token extraction (M_MISSING_TOKEN cases)', () => {
  it('no token at all', async () => {
    expect(await whoami()).toEqual({ status: 401, body: { errcode: 'M_MISSING_TOKEN', error: 'Missing access token' } });
  });
  it('header and query parameter together', async () => {
    expect(await whoami(undefined, { header: 'Bearer x', query: 'y' })).toEqual({
      status: 401,
      body: { errcode: 'M_MISSING_TOKEN', error: 'Mixing Authorization headers and access_token query parameters.' },
    });
  });
  it.each(['Basic abc', 'Bearer a b', 'bearer abc', 'Bearer'])('malformed Authorization %p', async (header) => {
    expect(await whoami(undefined, { header })).toEqual({ status: 401, body: { errcode: 'M_MISSING_TOKEN', error: 'Invalid Authorization header.' } });
  });
  it('accepts the token as ?access_token=', async () => {
    op.answer('tok-query', { active: true, scope: `${API} ${dev('ADEV')}`, username: 'alice' });
    expect(await whoami(undefined, { query: 'tok-query' })).toEqual({ status: 200, body: { user_id: '@alice:example.test', is_guest: false, device_id: 'ADEV' } });
  });
});

describe('the introspection request', () => {
  it('is a form POST with the shared secret as Bearer and the device-id header', async () => {
    op.answer('tok-shape', { active: true, scope: API, username: 'alice' });
    await whoami('tok-shape');
    const req = op.introspections().at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(req.headers['x-mas-supports-device-id']).toBe('1');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({ token: 'tok-shape', token_type_hint: 'access_token' });
  });
});

describe('strict validation of the answer: any violation is 503 M_UNKNOWN', () => {
  const unavailable = { status: 503, body: { errcode: 'M_UNKNOWN', error: 'Unable to introspect the access token' } };
  it.each<[string, { status?: number; body: string | object }]>([
    ['a 401 from the OP', { status: 401, body: { error: 'access_denied' } }],
    ['a 500 from the OP', { status: 500, body: {} }],
    ['a body that is not JSON', { body: 'not json' }],
    ['a JSON array', { body: '[true]' }],
    ['no active field', { body: {} }],
    ['active as a string', { body: { active: 'true' } }],
    ['active as a number', { body: { active: 1 } }],
    ['a float expires_in', { body: '{"active": true, "scope": "urn:matrix:client:api:*", "username": "alice", "expires_in": 300.0}' }],
    ['a string expires_in', { body: { active: true, expires_in: '300' } }],
    ['scope as a list', { body: { active: true, scope: [API], username: 'alice' } }],
    ['username as a number', { body: { active: true, scope: API, username: 5 } }],
    ['device_id as a number', { body: { active: true, scope: API, username: 'alice', device_id: 7 } }],
    ['a body over 1 MiB', { body: { active: true, scope: API, username: 'alice', padding: 'x'.repeat(1024 * 1024) } }],
  ])('%s', async (_name, answer) => {
    const token = `tok-invalid-${_name.replace(/\W+/g, '-')}`;
    op.answer(token, answer);
    expect(await whoami(token)).toEqual(unavailable);
  });
  it('a network failure (OP unreachable)', async () => {
    const other = await startHomeserverStandin({ endpoint: 'http://127.0.0.1:9/', secret: SECRET });
    try {
      const res = await fetch(`${other.url}/_matrix/client/v3/account/whoami`, { headers: { Authorization: 'Bearer x' } });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual(unavailable.body);
    } finally {
      await other.stop();
    }
  });
  it('unknown fields and null optional fields are fine', async () => {
    op.answer('tok-extra', { active: true, scope: API, username: 'alice', device_id: null, expires_in: null, sub: null, exp: 1.5, client_id: 'c', whatever: [1] });
    expect(await whoami('tok-extra')).toEqual({ status: 200, body: { user_id: '@alice:example.test', is_guest: false } });
  });
});

describe('derivation (§2.3, in order)', () => {
  const notActive = { status: 401, body: { errcode: 'M_UNKNOWN_TOKEN', error: 'Token is not active', soft_logout: false } };
  it('inactive → 401 M_UNKNOWN_TOKEN', async () => {
    op.answer('tok-inactive', { active: false });
    expect(await whoami('tok-inactive')).toEqual(notActive);
  });
  it('expired by expires_in (relative to when the answer arrived)', async () => {
    op.answer('tok-exp', { active: true, scope: API, username: 'alice', expires_in: 60 });
    expect((await whoami('tok-exp')).status).toBe(200);
    hs.advanceClock(59_000);
    expect((await whoami('tok-exp')).status).toBe(200);
    hs.advanceClock(1_000);
    expect(await whoami('tok-exp')).toEqual(notActive);
  });
  it('missing the C-S API scope → 401 (checked before the username)', async () => {
    op.answer('tok-noapi', { active: true, scope: 'openid urn:matrix:client:device:ADEV' });
    expect(await whoami('tok-noapi')).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: "Token doesn't grant access to the Matrix C-S API", soft_logout: false },
    });
  });
  it('the unstable API scope is accepted too', async () => {
    op.answer('tok-unstable', { active: true, scope: `${UNSTABLE_API} ${udev('ADEV')}`, username: 'alice' });
    expect((await whoami('tok-unstable')).body).toEqual({ user_id: '@alice:example.test', is_guest: false, device_id: 'ADEV' });
  });
  it('no username → 500 M_FORBIDDEN', async () => {
    op.answer('tok-nouser', { active: true, scope: API });
    expect(await whoami('tok-nouser')).toEqual({ status: 500, body: { errcode: 'M_FORBIDDEN', error: 'Invalid username claim in the introspection result' } });
  });
  it('unknown user → 500 M_FORBIDDEN (never created)', async () => {
    op.answer('tok-ghost', { active: true, scope: API, username: 'ghost' });
    expect(await whoami('tok-ghost')).toEqual({ status: 500, body: { errcode: 'M_FORBIDDEN', error: 'User not found' } });
    expect(hs.user('ghost')).toBeUndefined();
  });
  it('device_id field wins over the scope', async () => {
    op.answer('tok-devfield', { active: true, scope: `${API} ${dev('OTHER')}`, username: 'alice', device_id: 'ADEV' });
    expect((await whoami('tok-devfield')).body.device_id).toBe('ADEV');
  });
  it('the same device under both prefixes is one device', async () => {
    op.answer('tok-both', { active: true, scope: `${API} ${dev('ADEV')} ${udev('ADEV')}`, username: 'alice' });
    expect((await whoami('tok-both')).body.device_id).toBe('ADEV');
  });
  it('two devices in scope → 500', async () => {
    op.answer('tok-two', { active: true, scope: `${API} ${dev('ADEV')} ${udev('OTHER')}`, username: 'alice' });
    expect(await whoami('tok-two')).toEqual({ status: 500, body: { errcode: 'M_FORBIDDEN', error: 'Multiple device IDs in scope' } });
  });
  it('an empty or too long device ID → 500', async () => {
    op.answer('tok-long', { active: true, scope: API, username: 'alice', device_id: 'D'.repeat(256) });
    expect(await whoami('tok-long')).toEqual({ status: 500, body: { errcode: 'M_FORBIDDEN', error: 'Invalid device ID in introspection result' } });
    op.answer('tok-empty', { active: true, scope: `${API} ${dev('')}`, username: 'alice' });
    expect((await whoami('tok-empty')).status).toBe(500);
  });
  it('a device unknown to the homeserver → 401, never auto-created', async () => {
    op.answer('tok-nodev', { active: true, scope: `${API} ${dev('NOPE')}`, username: 'alice' });
    expect(await whoami('tok-nodev')).toEqual(notActive);
    expect(hs.devices('alice')).toEqual(['ADEV']);
  });
  it('a hidden device does not count', async () => {
    hs.addDevice('alice', 'HIDDEN', { hidden: true });
    op.answer('tok-hidden', { active: true, scope: `${API} ${dev('HIDDEN')}`, username: 'alice' });
    expect(await whoami('tok-hidden')).toEqual(notActive);
  });
  it('no device at all is allowed', async () => {
    op.answer('tok-nodevice', { active: true, scope: API, username: 'alice' });
    expect(await whoami('tok-nodevice')).toEqual({ status: 200, body: { user_id: '@alice:example.test', is_guest: false } });
  });
  it('admin ⇔ urn:synapse:admin:* in scope', async () => {
    op.answer('tok-admin', { active: true, scope: `${API} urn:synapse:admin:*`, username: 'alice' });
    op.answer('tok-user', { active: true, scope: API, username: 'alice' });
    expect((await hs.authenticate('tok-admin')).isAdmin).toBe(true);
    expect((await hs.authenticate('tok-user')).isAdmin).toBe(false);
    const res = await fetch(`${hs.url}/_synapse/admin/v2/users/${encodeURIComponent('@bob:example.test')}`, { headers: { Authorization: 'Bearer tok-user' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ errcode: 'M_FORBIDDEN', error: 'You are not a server admin' });
    const ok = await fetch(`${hs.url}/_synapse/admin/v2/users/${encodeURIComponent('@bob:example.test')}`, { headers: { Authorization: 'Bearer tok-admin' } });
    expect(ok.status).toBe(200);
  });
  it('the shared secret is not an admin token in stable mode (it is just introspected)', async () => {
    const res = await fetch(`${hs.url}/_synapse/admin/v2/users/${encodeURIComponent('@bob:example.test')}`, { headers: { Authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(401);
  });
});

describe('the 2-minute cache', () => {
  it('revoked at the OP but still accepted until the window ends', async () => {
    op.answer('tok-c1', { active: true, scope: `${API} ${dev('BDEV')}`, username: 'bob' });
    expect((await whoami('tok-c1')).status).toBe(200);
    op.answer('tok-c1', { active: false });
    hs.advanceClock(119_000);
    expect((await whoami('tok-c1')).status).toBe(200);
    expect(op.introspections().filter((r) => r.body.includes('tok-c1'))).toHaveLength(1);
    hs.advanceClock(1_000);
    expect((await whoami('tok-c1')).status).toBe(401);
  });
  it('…unless the device is deleted: rejected at once, and the entry is dropped', async () => {
    hs.addDevice('bob', 'GONE');
    op.answer('tok-c2', { active: true, scope: `${API} ${dev('GONE')}`, username: 'bob' });
    expect((await whoami('tok-c2')).status).toBe(200);
    await fetch(`${hs.url}/_synapse/mas/delete_device`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${SECRET}` },
      body: JSON.stringify({ localpart: 'bob', device_id: 'GONE' }),
    });
    expect((await whoami('tok-c2')).status).toBe(401);
    const before = op.introspections().length;
    await whoami('tok-c2');
    expect(op.introspections().length).toBe(before + 1);
  });
  it('caches inactive answers too', async () => {
    op.answer('tok-c3', { active: false });
    expect((await whoami('tok-c3')).status).toBe(401);
    op.answer('tok-c3', { active: true, scope: API, username: 'bob' });
    expect((await whoami('tok-c3')).status).toBe(401);
    hs.advanceClock(120_000);
    expect((await whoami('tok-c3')).status).toBe(200);
  });
  it('does not cache failures', async () => {
    op.answer('tok-c4', { status: 500, body: {} });
    expect((await whoami('tok-c4')).status).toBe(503);
    op.answer('tok-c4', { active: true, scope: API, username: 'bob' });
    expect((await whoami('tok-c4')).status).toBe(200);
  });
  it('merges concurrent introspections of one token', async () => {
    op.answer('tok-c5', { body: { active: true, scope: API, username: 'bob' }, delayMs: 200 });
    const before = op.introspections().length;
    const all = await Promise.all(Array.from({ length: 5 }, () => whoami('tok-c5')));
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(op.introspections().length).toBe(before + 1);
  });
  it('can be switched off: every request introspects', async () => {
    hs.setCacheEnabled(false);
    op.answer('tok-c6', { active: true, scope: API, username: 'bob' });
    const before = op.introspections().length;
    await whoami('tok-c6');
    await whoami('tok-c6');
    expect(op.introspections().length).toBe(before + 2);
  });
});

describe('discovery', () => {
  let lazy: HomeserverStandin;
  let lazyOp: ScriptedOp;
  beforeAll(async () => {
    lazyOp = await startScriptedOp();
    lazy = await startHomeserverStandin({ endpoint: `${lazyOp.url}/`, secret: SECRET });
  });
  afterAll(async () => {
    await lazy.stop();
    await lazyOp.stop();
  });

  it('is fetched lazily, requires account_management_uri, and a failure is retried on the next need', async () => {
    expect(lazyOp.received).toHaveLength(0);
    const { account_management_uri: _omit, ...withoutAccount } = lazyOp.discovery.body as Record<string, unknown>;
    const full = lazyOp.discovery;
    lazyOp.discovery = { body: withoutAccount };
    const bad = await fetch(`${lazy.url}/_matrix/client/v1/auth_metadata`);
    expect(bad.status).toBe(500);
    expect(await bad.json()).toEqual({ errcode: 'M_UNKNOWN', error: 'Internal server error' });
    lazyOp.discovery = full;
    const good = await fetch(`${lazy.url}/_matrix/client/v1/auth_metadata`);
    expect(good.status).toBe(200);
    expect(good.headers.get('cache-control')).toBe('public, max-age=600, s-maxage=3600, stale-while-revalidate=600');
    expect(await good.json()).toEqual(full.body);
    expect(lazyOp.received.filter((r) => r.path === '/.well-known/openid-configuration')).toHaveLength(2);
  });
  it('is served verbatim on both paths, with auth_issuer and the client well-known', async () => {
    const doc = lazyOp.discovery.body as Record<string, string>;
    expect(await (await fetch(`${lazy.url}/_matrix/client/unstable/org.matrix.msc2965/auth_metadata`)).json()).toEqual(doc);
    expect(await (await fetch(`${lazy.url}/_matrix/client/unstable/org.matrix.msc2965/auth_issuer`)).json()).toEqual({ issuer: doc.issuer });
    expect(await (await fetch(`${lazy.url}/.well-known/matrix/client`)).json()).toEqual({
      'm.homeserver': { base_url: `${lazy.url}/` },
      'org.matrix.msc2965.authentication': { issuer: doc.issuer, account: doc.account_management_uri },
    });
    // Loaded once for the life of the process.
    expect(lazyOp.received.filter((r) => r.path === '/.well-known/openid-configuration')).toHaveLength(2);
  });
});

describe('client surface', () => {
  it.each(['/_matrix/client/v3/login', '/_matrix/client/r0/logout', '/_matrix/client/v3/logout/all', '/_matrix/client/v3/refresh', '/_matrix/client/v3/account/password'])('%s → 404 M_UNRECOGNIZED', async (path) => {
    const res = await fetch(`${hs.url}${path}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });
  it('GET /login is gone too', async () => {
    expect((await fetch(`${hs.url}/_matrix/client/v3/login`)).status).toBe(404);
  });
  it('whoami with a wrong method → 405', async () => {
    const res = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
  it('/register is appservice-only', async () => {
    const res = await fetch(`${hs.url}/_matrix/client/v3/register`, { method: 'POST', body: JSON.stringify({ username: 'x', password: 'y' }) });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      errcode: 'M_FORBIDDEN',
      error: 'Registration has been disabled. Only m.login.application_service registrations are allowed.',
    });
  });
});

describe('routeCompatToOp (the reverse proxy of production)', () => {
  it('forwards /login, /logout and /refresh to the OP, with method, query, headers and body', async () => {
    const routed = await startHomeserverStandin({ endpoint: `${op.url}/`, secret: SECRET, routeCompatToOp: true });
    try {
      const before = op.received.length;
      const res = await fetch(`${routed.url}/_matrix/client/v3/login?x=1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probe': 'yes' }, body: '{"type":"m.login.token"}' });
      expect(res.status).toBe(404); // the scripted OP has no /login: its answer comes back as is
      const got = op.received.slice(before);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ method: 'POST', path: '/_matrix/client/v3/login', body: '{"type":"m.login.token"}' });
      expect(got[0]!.headers['x-probe']).toBe('yes');
      await fetch(`${routed.url}/_matrix/client/r0/logout/all`, { method: 'POST' });
      await fetch(`${routed.url}/_matrix/client/v3/refresh`, { method: 'POST' });
      expect(op.received.slice(before).map((r) => r.path)).toEqual(['/_matrix/client/v3/login', '/_matrix/client/r0/logout/all', '/_matrix/client/v3/refresh']);
      // Everything else is still the homeserver's.
      expect((await fetch(`${routed.url}/_matrix/client/v3/account/password`, { method: 'POST' })).status).toBe(404);
      expect(op.received.length).toBe(before + 3);
    } finally {
      await routed.stop();
    }
  });
});

describe('cross-signing reset gate', () => {
  it('a replacement needs allow_cross_signing_reset within 10 minutes', async () => {
    op.answer('tok-xs', { active: true, scope: `${API} ${dev('ADEV')}`, username: 'alice' });
    const upload = (key: string) =>
      fetch(`${hs.url}/_matrix/client/v3/keys/device_signing/upload`, {
        method: 'POST',
        headers: { Authorization: 'Bearer tok-xs' },
        body: JSON.stringify({ master_key: { keys: { k: key } } }),
      });
    expect((await upload('first')).status).toBe(200);
    const refused = await upload('second');
    expect(refused.status).toBe(401);
    const body = (await refused.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ session: 'dummy', flows: [{ stages: ['m.oauth'] }, { stages: ['org.matrix.cross_signing_reset'] }] });
    expect((body.params as Record<string, { url: string }>)['m.oauth']!.url).toBe(`${op.url}/account/?action=org.matrix.cross_signing_reset`);
    await fetch(`${hs.url}/_synapse/mas/allow_cross_signing_reset`, { method: 'POST', headers: { Authorization: `Bearer ${SECRET}` }, body: '{"localpart":"alice"}' });
    expect((await upload('second')).status).toBe(200);
    hs.advanceClock(10 * 60_000);
    expect((await upload('third')).status).toBe(401);
  });
});

describe('fault switches', () => {
  it('answers 500 while switched, and logs it as a fault', async () => {
    hs.setFault({ kind: 'error' }, /^\/_synapse\/mas\//);
    const res = await fetch(`${hs.url}/_synapse/mas/query_user?localpart=alice`, { headers: { Authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(500);
    expect(hs.calls.at(-1)).toMatchObject({ path: '/_synapse/mas/query_user', status: 500, fault: 'error' });
    hs.setFault({ kind: 'none' });
    expect((await fetch(`${hs.url}/_synapse/mas/query_user?localpart=alice`, { headers: { Authorization: `Bearer ${SECRET}` } })).status).toBe(200);
  });
  it('is slow while switched', async () => {
    hs.setFault({ kind: 'slow', delayMs: 300 });
    const t = Date.now();
    await fetch(`${hs.url}/_matrix/client/versions`);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });
  it('goes down (connection refused) and comes back on the same port', async () => {
    await hs.goDown();
    await expect(fetch(`${hs.url}/_matrix/client/versions`)).rejects.toThrow();
    await hs.comeUp();
    expect((await fetch(`${hs.url}/_matrix/client/versions`)).status).toBe(200);
  });
  it('never hit an unexpected exception in this file', () => {
    expect(hs.unexpectedErrors).toEqual([]);
  });
});
