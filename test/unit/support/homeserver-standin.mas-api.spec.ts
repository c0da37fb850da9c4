import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';

/**
 * The stand-in's /_synapse/mas/* must answer exactly as Synapse 1.157 does (docs/contracts/synapse.md
 * §3.1–3.2, §7 items 8–14): auth first, methods, body validation rules, status codes, side effects.
 */

const SECRET = 'standin-secret-0123456789';
let hs: HomeserverStandin;

beforeAll(async () => {
  hs = await startHomeserverStandin({
    secret: SECRET,
    appservices: [{ id: 'irc', asToken: 'as-token-irc', senderLocalpart: 'ircbot', exclusiveUsers: [/^@irc_.*:example\.test$/] }],
  });
});
afterAll(() => hs?.stop());

async function call(op: string, init: { method?: string; body?: unknown; raw?: string; token?: string | null; query?: string } = {}) {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? SECRET : init.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const method = init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET');
  const res = await fetch(`${hs.url}/_synapse/mas/${op}${init.query ?? ''}`, {
    method,
    headers,
    body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text, contentType: res.headers.get('content-type') };
}
const post = (op: string, body: unknown, token?: string | null) => call(op, { body, token });

describe('common rules', () => {
  it('no token → 401 M_MISSING_TOKEN, checked before the body', async () => {
    expect(await post('delete_user', 'garbage', null)).toMatchObject({ status: 401, body: { errcode: 'M_MISSING_TOKEN', error: 'Missing access token' } });
  });
  it('wrong secret → 403 M_UNKNOWN "This endpoint must only be called by MAS"', async () => {
    expect(await post('delete_user', {}, 'wrong')).toMatchObject({ status: 403, body: { errcode: 'M_UNKNOWN', error: 'This endpoint must only be called by MAS' } });
  });
  it('the secret is also accepted as ?access_token=', async () => {
    hs.addUser('qp');
    expect((await call('query_user', { token: null, query: `?localpart=qp&access_token=${SECRET}` })).status).toBe(200);
  });
  it('a malformed Authorization header → 401 M_MISSING_TOKEN', async () => {
    const res = await fetch(`${hs.url}/_synapse/mas/query_user?localpart=qp`, { headers: { Authorization: `Token ${SECRET}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errcode: 'M_MISSING_TOKEN', error: 'Invalid Authorization header.' });
  });
  it('wrong method → 405 M_UNRECOGNIZED (before auth)', async () => {
    expect(await call('provision_user', { method: 'GET', token: null })).toMatchObject({ status: 405, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } });
    expect((await call('query_user', { method: 'POST', raw: '{}' })).status).toBe(405);
    expect((await call('sync_devices', { method: 'PUT', raw: '{}' })).status).toBe(405);
  });
  it('HEAD is served as GET', async () => {
    const res = await fetch(`${hs.url}/_synapse/mas/query_user?localpart=qp`, { method: 'HEAD', headers: { Authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(200);
  });
  it('an unknown sub-path is a non-JSON 404', async () => {
    const res = await fetch(`${hs.url}/_synapse/mas/no_such_thing`, { headers: { Authorization: `Bearer ${SECRET}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });
  it('empty or unparsable body → M_NOT_JSON; valid JSON that is not an object → M_BAD_JSON', async () => {
    expect(await call('delete_user', { raw: '' })).toMatchObject({ status: 400, body: { errcode: 'M_NOT_JSON', error: 'Content not JSON.' } });
    expect(await call('delete_user', { raw: '{"localpart":' })).toMatchObject({ status: 400, body: { errcode: 'M_NOT_JSON' } });
    expect(await call('delete_user', { raw: '["alice"]' })).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON', error: 'Content must be a JSON object.' } });
    expect(await call('delete_user', { raw: '"alice"' })).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
  });
  it('exactly one missing field → M_MISSING_PARAM with pydantic text', async () => {
    const r = await post('delete_user', { localpart: 'qp' });
    expect(r).toMatchObject({ status: 400, body: { errcode: 'M_MISSING_PARAM' } });
    expect(r.body.error).toMatch(/^1 validation error for PostBody\nerase\n {2}Field required \[type=missing/);
  });
  it('two missing fields → M_BAD_JSON', async () => {
    expect(await post('delete_user', {})).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
    expect((await post('delete_user', {})).body.error).toMatch(/^2 validation errors/);
  });
  it('strict types, no coercion: wrong type → M_BAD_JSON', async () => {
    for (const body of [
      { localpart: 'qp', erase: 'true' },
      { localpart: 'qp', erase: 1 },
      { localpart: 'qp', erase: null },
      { localpart: 5, erase: false },
      { localpart: null, erase: false },
    ]) {
      expect(await post('delete_user', body)).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
    }
    expect(await post('sync_devices', { localpart: 'qp', devices: 'DEV' })).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
    expect(await post('sync_devices', { localpart: 'qp', devices: ['A', 1] })).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
    expect(await post('provision_user', { localpart: 'qp', set_emails: [1] })).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
  });
  it('null only where the field is nullable', async () => {
    expect((await post('provision_user', { localpart: 'qp', set_displayname: null, set_avatar_url: null, set_emails: null, locked: null })).status).toBe(200);
    expect((await post('provision_user', { localpart: 'qp', unset_displayname: null })).status).toBe(400);
  });
  it('unknown fields are ignored, not rejected', async () => {
    expect(await post('provision_user', { localpart: 'qp', surprise: true, nested: { x: 1 } })).toMatchObject({ status: 200, body: {} });
  });
  it('set_*/unset_* together → M_INVALID_PARAM, by key presence whatever the values', async () => {
    for (const [a, b] of [
      ['set_displayname', 'unset_displayname'],
      ['set_avatar_url', 'unset_avatar_url'],
      ['set_emails', 'unset_emails'],
    ]) {
      const r = await post('provision_user', { localpart: 'qp', [a!]: null, [b!]: false });
      expect(r).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_PARAM' } });
      expect(r.body.error).toContain(`Value error, Cannot specify both ${b} and ${a}`);
    }
  });
});

describe('users', () => {
  it('provision_user creates (201, display name defaults to the localpart) then updates (200)', async () => {
    expect(await post('provision_user', { localpart: 'carol', set_emails: ['c@example.org'] })).toEqual(expect.objectContaining({ status: 201, body: {} }));
    expect(hs.user('carol')).toMatchObject({ displayName: 'carol', emails: new Set(['c@example.org']), locked: false });
    expect((await post('provision_user', { localpart: 'carol', set_displayname: '  Carol C  ', set_avatar_url: 'mxc://x/y', locked: true })).status).toBe(200);
    expect(hs.user('carol')).toMatchObject({ displayName: 'Carol C', avatarUrl: 'mxc://x/y', locked: true });
    expect((await post('provision_user', { localpart: 'carol', unset_displayname: true, unset_avatar_url: true, unset_emails: true, locked: false })).status).toBe(200);
    expect(hs.user('carol')).toMatchObject({ displayName: null, avatarUrl: null, emails: new Set(), locked: false });
  });
  it('provision_user on creation uses set_displayname and applies locked', async () => {
    expect((await post('provision_user', { localpart: 'dave', set_displayname: 'Dave', locked: true })).status).toBe(201);
    expect(hs.user('dave')).toMatchObject({ displayName: 'Dave', locked: true });
  });
  it('length limits: display name > 256 and avatar URL > 1000 → 400', async () => {
    expect(await post('provision_user', { localpart: 'carol', set_displayname: 'x'.repeat(257) })).toMatchObject({ status: 400, body: { errcode: 'M_UNKNOWN', error: 'Displayname is too long (max 256)' } });
    expect(await post('provision_user', { localpart: 'carol', set_avatar_url: 'x'.repeat(1001) })).toMatchObject({ status: 400, body: { error: 'Avatar URL is too long (max 1000)' } });
    expect(await post('set_displayname', { localpart: 'carol', displayname: 'x'.repeat(257) })).toMatchObject({ status: 400 });
    expect((await post('set_displayname', { localpart: 'carol', displayname: 'x'.repeat(256) })).status).toBe(200);
  });
  it('provision_user refuses invalid usernames on creation with the registration errcodes', async () => {
    expect(await post('provision_user', { localpart: 'Eve' })).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_USERNAME' } });
    expect(await post('provision_user', { localpart: '12345' })).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_USERNAME' } });
    hs.addUser('Frank');
    expect(await post('provision_user', { localpart: 'frank' })).toMatchObject({ status: 400, body: { errcode: 'M_USER_IN_USE' } });
  });
  it('query_user returns the five fields; 404 when unknown; missing param → M_MISSING_PARAM', async () => {
    expect(await call('query_user', { query: '?localpart=dave' })).toMatchObject({
      status: 200,
      body: { user_id: '@dave:example.test', display_name: 'Dave', avatar_url: null, is_suspended: false, is_deactivated: false },
    });
    expect(await call('query_user', { query: '?localpart=nobody' })).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND', error: 'User not found' } });
    expect(await call('query_user')).toMatchObject({ status: 400, body: { errcode: 'M_MISSING_PARAM', error: 'Missing string query parameter localpart' } });
    expect(await call('query_user', { query: '?localpart=d%C3%A9' })).toMatchObject({ status: 400, body: { errcode: 'M_UNKNOWN', error: "Query parameter 'localpart' must be ascii" } });
  });
  it('unknown localpart → 404 on every endpoint that needs a user', async () => {
    for (const [op, body] of [
      ['delete_user', { localpart: 'nobody', erase: false }],
      ['reactivate_user', { localpart: 'nobody' }],
      ['set_displayname', { localpart: 'nobody', displayname: 'x' }],
      ['unset_displayname', { localpart: 'nobody' }],
      ['allow_cross_signing_reset', { localpart: 'nobody' }],
      ['upsert_device', { localpart: 'nobody', device_id: 'D' }],
      ['delete_device', { localpart: 'nobody', device_id: 'D' }],
      ['update_device_display_name', { localpart: 'nobody', device_id: 'D', display_name: 'x' }],
      ['sync_devices', { localpart: 'nobody', devices: [] }],
    ] as const) {
      expect(await post(op, body)).toMatchObject({ status: 404, body: { errcode: 'M_NOT_FOUND', error: 'User not found' } });
    }
    expect(hs.user('nobody')).toBeUndefined();
  });
  it('delete_user removes every device, sets is_deactivated, erase clears the profile; idempotent', async () => {
    hs.addUser('gina', { displayName: 'Gina', devices: ['G1', 'G2'] });
    expect(await post('delete_user', { localpart: 'gina', erase: false })).toMatchObject({ status: 200, body: {} });
    expect(hs.devices('gina')).toEqual([]);
    expect(hs.user('gina')).toMatchObject({ deactivated: true, displayName: 'Gina' });
    expect((await post('delete_user', { localpart: 'gina', erase: true })).status).toBe(200);
    expect((await call('query_user', { query: '?localpart=gina' })).body).toEqual({
      user_id: '@gina:example.test',
      display_name: null,
      avatar_url: null,
      is_suspended: false,
      is_deactivated: true,
    });
  });
  it('reactivate_user clears the flag only', async () => {
    expect(await post('reactivate_user', { localpart: 'gina' })).toMatchObject({ status: 200, body: {} });
    expect(hs.user('gina')).toMatchObject({ deactivated: false, erased: false, displayName: null });
    expect(hs.devices('gina')).toEqual([]);
    expect((await post('reactivate_user', { localpart: 'gina' })).status).toBe(200);
  });
  it('set_displayname / unset_displayname ("" clears)', async () => {
    expect((await post('set_displayname', { localpart: 'gina', displayname: 'G' })).status).toBe(200);
    expect(hs.user('gina')!.displayName).toBe('G');
    expect((await post('set_displayname', { localpart: 'gina', displayname: '' })).status).toBe(200);
    expect(hs.user('gina')!.displayName).toBeNull();
    await post('set_displayname', { localpart: 'gina', displayname: 'G' });
    expect(await post('unset_displayname', { localpart: 'gina' })).toMatchObject({ status: 200, body: {} });
    expect(hs.user('gina')!.displayName).toBeNull();
  });
  it('allow_cross_signing_reset is 200 even without a master key', async () => {
    expect(await post('allow_cross_signing_reset', { localpart: 'gina' })).toMatchObject({ status: 200, body: {} });
  });
});

describe('is_localpart_available: rules in Synapse order', () => {
  const check = (lp: string | undefined) => call('is_localpart_available', { query: lp === undefined ? '' : `?localpart=${encodeURIComponent(lp)}` });
  // Rest parameters: jest would take a 4th named parameter as a `done` callback for 3-column rows.
  it.each<[string | undefined, number, string, string?]>([
    ['newname', 200, ''],
    [undefined, 400, 'M_UNKNOWN', 'Missing localpart'],
    ['Upper', 400, 'M_INVALID_USERNAME', "User ID can only contain characters a-z, 0-9, or '=_-./+'"],
    ['sp ace', 400, 'M_INVALID_USERNAME'],
    ['', 400, 'M_INVALID_USERNAME', 'User ID cannot be empty'],
    ['_hidden', 400, 'M_INVALID_USERNAME', 'User ID may not begin with _'],
    ['irc_someone', 400, 'M_EXCLUSIVE', 'This user ID is reserved by an application service.'],
    ['x'.repeat(250), 400, 'M_INVALID_USERNAME', 'User ID may not be longer than 255 characters'],
    ['dave', 400, 'M_USER_IN_USE', 'User ID already taken.'],
    ['frank', 400, 'M_USER_IN_USE', 'User ID already taken.'],
    ['12345', 400, 'M_INVALID_USERNAME', 'Numeric user IDs are reserved for guest users.'],
    ['+12', 400, 'M_INVALID_USERNAME', 'Numeric user IDs are reserved for guest users.'],
    ['a+b=c/d.e-f', 200, ''],
    ['dé', 400, 'M_UNKNOWN', "Query parameter 'localpart' must be ascii"],
  ])('%p → %i %s', async (...[lp, status, errcode, error]) => {
    const r = await check(lp);
    expect(r.status).toBe(status);
    if (status === 200) expect(r.body).toEqual({});
    else expect(r.body).toEqual({ errcode, error: error ?? expect.any(String) });
  });
  it('invalid characters are reported before the leading underscore and the taken check', async () => {
    expect((await check('_Dave')).body.error).toBe("User ID can only contain characters a-z, 0-9, or '=_-./+'");
  });
});

describe('devices', () => {
  beforeAll(() => {
    hs.addUser('hank');
  });
  it('upsert_device: 201 new (named as given), 200 existing, name replaced only by a string', async () => {
    expect(await post('upsert_device', { localpart: 'hank', device_id: 'H1', display_name: 'Phone' })).toMatchObject({ status: 201, body: {} });
    expect(await post('upsert_device', { localpart: 'hank', device_id: 'H1' })).toMatchObject({ status: 200, body: {} });
    expect(hs.user('hank')!.devices.get('H1')!.displayName).toBe('Phone');
    expect((await post('upsert_device', { localpart: 'hank', device_id: 'H1', display_name: null })).status).toBe(200);
    expect(hs.user('hank')!.devices.get('H1')!.displayName).toBe('Phone');
    expect((await post('upsert_device', { localpart: 'hank', device_id: 'H1', display_name: 'Tablet' })).status).toBe(200);
    expect(hs.user('hank')!.devices.get('H1')!.displayName).toBe('Tablet');
  });
  it('upsert_device: no format check on the ID; a name over 100 → M_TOO_LARGE; a hidden device ID → M_FORBIDDEN', async () => {
    expect((await post('upsert_device', { localpart: 'hank', device_id: 'weird id/+=' })).status).toBe(201);
    expect(await post('upsert_device', { localpart: 'hank', device_id: 'H2', display_name: 'x'.repeat(101) })).toMatchObject({
      status: 400,
      body: { errcode: 'M_TOO_LARGE', error: 'Device display name is too long (max 100)' },
    });
    hs.addDevice('hank', 'XSKEY', { hidden: true });
    expect(await post('upsert_device', { localpart: 'hank', device_id: 'XSKEY' })).toMatchObject({ status: 400, body: { errcode: 'M_FORBIDDEN', error: 'The device ID is in use' } });
  });
  it('update_device_display_name: 200; unknown device → 404 "Not found"; > 100 → M_TOO_LARGE', async () => {
    expect(await post('update_device_display_name', { localpart: 'hank', device_id: 'H1', display_name: 'Laptop' })).toMatchObject({ status: 200, body: {} });
    expect(hs.user('hank')!.devices.get('H1')!.displayName).toBe('Laptop');
    expect(await post('update_device_display_name', { localpart: 'hank', device_id: 'NOPE', display_name: 'x' })).toMatchObject({
      status: 404,
      body: { errcode: 'M_NOT_FOUND', error: 'Not found' },
    });
    expect((await post('update_device_display_name', { localpart: 'hank', device_id: 'H1', display_name: 'x'.repeat(101) })).body.errcode).toBe('M_TOO_LARGE');
    expect((await post('update_device_display_name', { localpart: 'hank', device_id: 'H1' })).body.errcode).toBe('M_MISSING_PARAM');
  });
  it('delete_device: 204 with an empty body, also for a missing device', async () => {
    const r = await post('delete_device', { localpart: 'hank', device_id: 'weird id/+=' });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(hs.devices('hank')).toEqual(['H1']);
    expect((await post('delete_device', { localpart: 'hank', device_id: 'never-existed' })).status).toBe(204);
  });
  it('sync_devices: deletes extras, adds missing unnamed ones, keeps the dehydrated device and hidden ones; duplicates fine', async () => {
    hs.addDevice('hank', 'H3', { displayName: 'Old' });
    hs.addDevice('hank', 'DEHYD', { dehydrated: true });
    expect(await post('sync_devices', { localpart: 'hank', devices: ['H1', 'NEW', 'NEW'] })).toMatchObject({ status: 200, body: {} });
    expect(hs.devices('hank')).toEqual(['DEHYD', 'H1', 'NEW']);
    expect(hs.user('hank')!.devices.get('NEW')!.displayName).toBeNull();
    expect(hs.user('hank')!.devices.has('XSKEY')).toBe(true);
    expect((await post('sync_devices', { localpart: 'hank', devices: [] })).status).toBe(200);
    expect(hs.devices('hank')).toEqual(['DEHYD']);
  });
});

describe('the call log', () => {
  it('records every request with its answer, in order', async () => {
    const n = hs.calls.length;
    await post('delete_device', { localpart: 'hank', device_id: 'Z' });
    await call('query_user', { query: '?localpart=hank' });
    const [a, b] = hs.calls.slice(n);
    expect(a).toMatchObject({ method: 'POST', path: '/_synapse/mas/delete_device', body: { localpart: 'hank', device_id: 'Z' }, status: 204, authorization: `Bearer ${SECRET}` });
    expect(b).toMatchObject({ method: 'GET', path: '/_synapse/mas/query_user', query: { localpart: 'hank' }, status: 200 });
    expect(b!.seq).toBe(a!.seq + 1);
    expect(hs.callsTo('delete_device', { ok: true }).at(-1)).toBe(a);
  });
  it('waitForCall resolves for a future call', async () => {
    const waiting = hs.waitForCall((c) => c.path === '/_synapse/mas/unset_displayname' && c.body !== '' && (c.body as { localpart: string }).localpart === 'hank');
    await post('unset_displayname', { localpart: 'hank' });
    expect((await waiting).status).toBe(200);
  });
  it('never hit an unexpected exception', () => {
    expect(hs.unexpectedErrors).toEqual([]);
  });
});
