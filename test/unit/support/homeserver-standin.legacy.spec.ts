import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startScriptedOp, type ScriptedOp } from './scripted-op.js';

/**
 * The stand-in in legacy `experimental_features.msc3861` mode (Synapse ≤ 1.156, docs/contracts/synapse.md
 * §2.6 and §4): client-credential introspection, sub → external ID mapping, the admin_token virtual
 * admin, and the admin API calls of MAS's synapse_legacy driver.
 */

const ADMIN_TOKEN = 'legacy-admin-token-0123456789';
const API = 'urn:matrix:client:api:*';
let op: ScriptedOp;
let basic: HomeserverStandin;
let postAuth: HomeserverStandin;

beforeAll(async () => {
  op = await startScriptedOp();
  const legacy = (method: 'client_secret_basic' | 'client_secret_post') => ({
    issuer: `${op.url}/`,
    clientId: 'synapse client',
    clientSecret: 's3cret/+:',
    clientAuthMethod: method,
    adminToken: ADMIN_TOKEN,
  });
  basic = await startHomeserverStandin({ mode: 'msc3861', legacy: legacy('client_secret_basic') });
  postAuth = await startHomeserverStandin({ mode: 'msc3861', legacy: legacy('client_secret_post') });
  for (const hs of [basic, postAuth]) hs.addUser('alice', { devices: ['ADEV'] });
});
afterAll(async () => {
  await basic?.stop();
  await postAuth?.stop();
  await op?.stop();
});

const whoami = async (hs: HomeserverStandin, token: string) => {
  const res = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const admin = async (hs: HomeserverStandin, method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
  const res = await fetch(`${hs.url}${path}`, { method, headers: { Authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};
const ALICE = encodeURIComponent('@alice:example.test');

describe('introspection with client credentials (URL from discovery)', () => {
  it('client_secret_basic: Basic of the form-encoded id and secret, no secret in the body', async () => {
    op.answer('leg-basic', { active: true, scope: API, sub: 'sub-alice', username: 'alice' });
    expect((await whoami(basic, 'leg-basic')).status).toBe(200);
    const req = op.introspections().at(-1)!;
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('synapse%20client:s3cret%2F%2B%3A').toString('base64')}`);
    expect(req.headers['x-mas-supports-device-id']).toBe('1');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({ token: 'leg-basic', token_type_hint: 'access_token' });
  });
  it('client_secret_post: credentials appended to the form', async () => {
    op.answer('leg-post', { active: true, scope: API, sub: 'sub-alice', username: 'alice' });
    expect((await whoami(postAuth, 'leg-post')).status).toBe(200);
    const req = op.introspections().at(-1)!;
    expect(req.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      token: 'leg-post',
      token_type_hint: 'access_token',
      client_id: 'synapse client',
      client_secret: 's3cret/+:',
    });
  });
});

describe('legacy derivation', () => {
  it('sub is required', async () => {
    op.answer('leg-nosub', { active: true, scope: API, username: 'alice' });
    expect(await whoami(basic, 'leg-nosub')).toEqual({
      status: 401,
      body: { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid sub claim in the introspection result', soft_logout: false },
    });
  });
  it('missing API scope has the legacy message', async () => {
    op.answer('leg-noscope', { active: true, scope: 'openid', sub: 's', username: 'alice' });
    expect((await whoami(basic, 'leg-noscope')).body.error).toBe('No scope in token granting user rights');
  });
  it('maps sub through the external ID recorded on first use', async () => {
    op.answer('leg-map1', { active: true, scope: API, sub: 'sub-mapped', username: 'alice' });
    await whoami(basic, 'leg-map1');
    expect(basic.user('alice')!.externalIds.get('oauth-delegated')).toBe('sub-mapped');
    // Later the username claim is ignored: the sub wins.
    op.answer('leg-map2', { active: true, scope: API, sub: 'sub-mapped', username: 'someone-else' });
    expect((await whoami(basic, 'leg-map2')).body.user_id).toBe('@alice:example.test');
  });
  it('unknown user is 500, never created; device existence is not enforced', async () => {
    op.answer('leg-ghost', { active: true, scope: API, sub: 'sub-ghost', username: 'ghost' });
    expect(await whoami(basic, 'leg-ghost')).toEqual({ status: 500, body: { errcode: 'M_FORBIDDEN', error: 'User not found' } });
    op.answer('leg-nodev', { active: true, scope: `${API} urn:matrix:client:device:NOPE`, sub: 'sub-mapped' });
    expect(await whoami(basic, 'leg-nodev')).toEqual({ status: 200, body: { user_id: '@alice:example.test', is_guest: false, device_id: 'NOPE' } });
  });
  it('a non-integer expires_in is a 401', async () => {
    op.answer('leg-float', { body: '{"active": true, "scope": "urn:matrix:client:api:*", "sub": "sub-mapped", "expires_in": 30.5}' });
    expect((await whoami(basic, 'leg-float')).body).toEqual({ errcode: 'M_UNKNOWN_TOKEN', error: 'token `expires_in` is not an int', soft_logout: false });
  });
  it('admin_token is the virtual admin, without introspection', async () => {
    const n = op.introspections().length;
    expect(await whoami(basic, ADMIN_TOKEN)).toEqual({ status: 200, body: { user_id: '@__oidc_admin:example.test', is_guest: false } });
    expect(op.introspections().length).toBe(n);
  });
  it('admin_token authenticates /_synapse/mas/* (1.135–1.156)', async () => {
    expect((await admin(basic, 'GET', '/_synapse/mas/query_user?localpart=alice')).status).toBe(200);
    expect((await admin(basic, 'GET', '/_synapse/mas/query_user?localpart=alice', undefined, 'other')).status).toBe(403);
  });
});

describe('admin API used by the synapse-admin driver (§4)', () => {
  it('requires an admin', async () => {
    op.answer('leg-user', { active: true, scope: API, sub: 'sub-mapped' });
    expect(await admin(basic, 'GET', `/_synapse/admin/v2/users/${ALICE}`, undefined, 'leg-user')).toEqual({
      status: 403,
      body: { errcode: 'M_FORBIDDEN', error: 'You are not a server admin' },
    });
  });
  it('username_available', async () => {
    expect(await admin(basic, 'GET', '/_synapse/admin/v1/username_available?username=newbie')).toEqual({ status: 200, body: { available: true } });
    expect(await admin(basic, 'GET', '/_synapse/admin/v1/username_available?username=alice')).toMatchObject({ status: 400, body: { errcode: 'M_USER_IN_USE' } });
    expect(await admin(basic, 'GET', '/_synapse/admin/v1/username_available?username=Bad')).toMatchObject({ status: 400, body: { errcode: 'M_INVALID_USERNAME' } });
  });
  it('PUT v2 user: 201 created with external_ids, then 200 updated; GET reads it back', async () => {
    const id = encodeURIComponent('@newbie:example.test');
    const created = await admin(basic, 'PUT', `/_synapse/admin/v2/users/${id}`, {
      external_ids: [{ auth_provider: 'oauth-delegated', external_id: 'sub-newbie' }],
      displayname: 'Newbie',
      threepids: [{ medium: 'email', address: 'n@example.org' }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: '@newbie:example.test', displayname: 'Newbie', deactivated: false });
    const updated = await admin(basic, 'PUT', `/_synapse/admin/v2/users/${id}`, { external_ids: [{ auth_provider: 'oauth-delegated', external_id: 'sub-newbie' }], displayname: '', threepids: [] });
    expect(updated.status).toBe(200);
    expect(basic.user('newbie')).toMatchObject({ displayName: null, emails: new Set() });
    expect((await admin(basic, 'GET', `/_synapse/admin/v2/users/${id}`)).body).toMatchObject({
      external_ids: [{ auth_provider: 'oauth-delegated', external_id: 'sub-newbie' }],
    });
    expect(await admin(basic, 'GET', `/_synapse/admin/v2/users/${encodeURIComponent('@ghost:example.test')}`)).toEqual({
      status: 404,
      body: { errcode: 'M_NOT_FOUND', error: 'User not found' },
    });
  });
  it('an external ID owned by someone else → 409', async () => {
    const r = await admin(basic, 'PUT', `/_synapse/admin/v2/users/${ALICE}`, { external_ids: [{ auth_provider: 'oauth-delegated', external_id: 'sub-newbie' }] });
    expect(r).toEqual({ status: 409, body: { errcode: 'M_UNKNOWN', error: 'External id is already in use.' } });
  });
  it('devices: create 201, list (dehydrated flagged), rename 200, delete 200 (missing too), delete_devices 200', async () => {
    const base = `/_synapse/admin/v2/users/${ALICE}/devices`;
    expect(await admin(basic, 'POST', base, { device_id: 'LEG1' })).toEqual({ status: 201, body: {} });
    expect(await admin(basic, 'POST', base, { device_id: 'LEG1' })).toEqual({ status: 201, body: {} });
    basic.addDevice('alice', 'DEHYD', { dehydrated: true });
    const list = await admin(basic, 'GET', base);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(3);
    expect(list.body.devices.find((d: { device_id: string }) => d.device_id === 'DEHYD').dehydrated).toBe(true);
    expect(await admin(basic, 'PUT', `${base}/LEG1`, { display_name: 'Legacy' })).toEqual({ status: 200, body: {} });
    expect(basic.user('alice')!.devices.get('LEG1')!.displayName).toBe('Legacy');
    expect(await admin(basic, 'DELETE', `${base}/LEG1`)).toEqual({ status: 200, body: {} });
    expect(await admin(basic, 'DELETE', `${base}/LEG1`)).toEqual({ status: 200, body: {} });
    expect(await admin(basic, 'POST', `/_synapse/admin/v2/users/${ALICE}/delete_devices`, { devices: [] })).toEqual({ status: 200, body: {} });
    expect(await admin(basic, 'POST', `/_synapse/admin/v2/users/${ALICE}/delete_devices`, {})).toMatchObject({ status: 400, body: { errcode: 'M_MISSING_PARAM' } });
    expect(await admin(basic, 'POST', `/_synapse/admin/v2/users/${ALICE}/delete_devices`, { devices: ['ADEV'] })).toEqual({ status: 200, body: {} });
    expect(basic.devices('alice')).toEqual(['DEHYD']);
  });
  it('set the display name through the client API as the virtual admin', async () => {
    expect(await admin(basic, 'PUT', `/_matrix/client/v3/profile/${ALICE}/displayname`, { displayname: 'Alice A' })).toEqual({ status: 200, body: {} });
    expect(basic.user('alice')!.displayName).toBe('Alice A');
  });
  it('cross-signing: 404 without a master key, 200 with the deadline after one is uploaded', async () => {
    const path = `/_synapse/admin/v1/users/${ALICE}/_allow_cross_signing_replacement_without_uia`;
    expect(await admin(basic, 'POST', path, {})).toEqual({ status: 404, body: { errcode: 'M_NOT_FOUND', error: 'User has no master cross-signing key' } });
    basic.user('alice')!.masterKey = '{"k":1}';
    const ok = await admin(basic, 'POST', path, {});
    expect(ok.status).toBe(200);
    expect(ok.body.updatable_without_uia_before_ms).toBeGreaterThan(basic.now());
  });
  it('deactivate: 200 with id_server_unbind_result; erase clears the profile; reactivate through PUT deactivated:false', async () => {
    basic.addUser('zed', { displayName: 'Zed', devices: ['Z1'] });
    const id = encodeURIComponent('@zed:example.test');
    expect(await admin(basic, 'POST', `/_synapse/admin/v1/deactivate/${id}`, { erase: true })).toEqual({ status: 200, body: { id_server_unbind_result: 'success' } });
    expect(basic.user('zed')).toMatchObject({ deactivated: true, erased: true, displayName: null });
    expect(basic.devices('zed')).toEqual([]);
    expect((await admin(basic, 'PUT', `/_synapse/admin/v2/users/${id}`, { deactivated: false })).status).toBe(200);
    expect(basic.user('zed')!.deactivated).toBe(false);
    expect(await admin(basic, 'POST', `/_synapse/admin/v1/deactivate/${id}`, { erase: 'yes' })).toMatchObject({ status: 400, body: { errcode: 'M_BAD_JSON' } });
  });
  it('never hit an unexpected exception', () => {
    expect(basic.unexpectedErrors).toEqual([]);
    expect(postAuth.unexpectedErrors).toEqual([]);
  });
});
