import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HomeserverError, type HomeserverAdapter } from '../../../src/homeserver/homeserver.adapter.js';
import { createHomeserverAdapter } from '../../../src/homeserver/homeserver.factory.js';
import { SynapseAdminAdapter } from '../../../src/homeserver/synapse-admin.adapter.js';
import { SynapseMasAdapter } from '../../../src/homeserver/synapse-mas.adapter.js';
import { withHomeserverRetries } from '../../../src/homeserver/with-retries.js';
import { startHomeserverStandin, type CallRecord, type HomeserverStandin } from '../../support/homeserver-standin.js';

/**
 * Both homeserver adapters against the stand-in: what goes over the wire (paths, methods, bodies)
 * matches docs/contracts/synapse.md §3.2/§3.3 (synapse-mas) and §4 (synapse-admin), and failures are
 * classified for delivery (transient vs permanent, "already done" as success).
 */

const SECRET = 'adapter-shared-secret-0123456789';
const ADMIN_TOKEN = 'adapter-admin-token-0123456789';

function adapterFor(hs: HomeserverStandin, api: 'synapse-mas' | 'synapse-admin', timeout_ms = 2000): HomeserverAdapter {
  return createHomeserverAdapter({ homeserver: hs.serverName, endpoint: `${hs.url}/`, api, secret: api === 'synapse-mas' ? SECRET : ADMIN_TOKEN, timeout_ms });
}
const wire = (c: CallRecord) => ({ method: c.method, path: c.path, ...(c.body !== '' ? { body: c.body } : {}), status: c.status });

describe('synapse-mas adapter', () => {
  let hs: HomeserverStandin;
  let hsa: HomeserverAdapter;
  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SECRET });
    hsa = adapterFor(hs, 'synapse-mas');
  });
  afterAll(() => hs?.stop());

  it('is chosen by matrix.api', () => {
    expect(hsa).toBeInstanceOf(SynapseMasAdapter);
  });

  it('provisionUser: 201 → created, 200 → updated; set / unset / leave alone map to the right fields', async () => {
    expect(await hsa.provisionUser({ localpart: 'alice', displayname: 'Alice', emails: ['a@example.org'], locked: false })).toBe('created');
    expect(await hsa.provisionUser({ localpart: 'alice', displayname: null, avatarUrl: 'mxc://x/y', emails: null, locked: true })).toBe('updated');
    expect(await hsa.provisionUser({ localpart: 'alice', avatarUrl: null })).toBe('updated');
    expect(hs.callsTo('provision_user').map((c) => c.body)).toEqual([
      { localpart: 'alice', set_displayname: 'Alice', set_emails: ['a@example.org'], locked: false },
      { localpart: 'alice', unset_displayname: true, set_avatar_url: 'mxc://x/y', unset_emails: true, locked: true },
      { localpart: 'alice', unset_avatar_url: true },
    ]);
    expect(hs.user('alice')).toMatchObject({ displayName: null, avatarUrl: null, locked: true, emails: new Set() });
  });

  it('provisionUser: an invalid localpart is a permanent error carrying the errcode', async () => {
    const err = (await hsa.provisionUser({ localpart: 'Bad Name' }).catch((e) => e)) as HomeserverError;
    expect(err).toBeInstanceOf(HomeserverError);
    expect(err).toMatchObject({ transient: false, status: 400, errcode: 'M_INVALID_USERNAME' });
  });

  it('isLocalpartAvailable: 200 ⇒ true; M_USER_IN_USE / M_INVALID_USERNAME / M_EXCLUSIVE ⇒ false; non-ASCII skipped', async () => {
    expect(await hsa.isLocalpartAvailable('free')).toBe(true);
    expect(await hsa.isLocalpartAvailable('ALICE')).toBe(false);
    expect(await hsa.isLocalpartAvailable('alice')).toBe(false);
    expect(await hsa.isLocalpartAvailable('123')).toBe(false);
    const before = hs.calls.length;
    expect(await hsa.isLocalpartAvailable('dé')).toBe(false);
    expect(hs.calls.length).toBe(before);
  });

  it('queryUser: the five fields, null for an unknown user', async () => {
    expect(await hsa.queryUser('alice')).toEqual({ userId: '@alice:example.test', displayName: null, avatarUrl: null, isSuspended: false, isDeactivated: false });
    expect(await hsa.queryUser('nobody')).toBeNull();
  });

  it('devices: upsert (named or not), rename, delete (missing device and unknown user count as done), sync', async () => {
    await hsa.upsertDevice('alice', 'D1', 'Phone');
    await hsa.upsertDevice('alice', 'D2');
    await hsa.updateDeviceDisplayName('alice', 'D2', 'Laptop');
    await hsa.deleteDevice('alice', 'D1');
    await hsa.deleteDevice('alice', 'D1');
    await hsa.deleteDevice('nobody', 'D1');
    await hsa.syncDevices('alice', ['D2', 'D3', 'D3']);
    expect(hs.devices('alice')).toEqual(['D2', 'D3']);
    await hsa.syncDevices('nobody', []);
    await expect(hsa.syncDevices('nobody', ['X'])).rejects.toMatchObject({ transient: false, status: 404 });
    await expect(hsa.updateDeviceDisplayName('alice', 'NOPE', 'x')).rejects.toMatchObject({ transient: false, status: 404, errcode: 'M_NOT_FOUND' });
    expect(hs.calls.filter((c) => /upsert_device|update_device|delete_device|sync_devices/.test(c.path)).map(wire)).toEqual([
      { method: 'POST', path: '/_synapse/mas/upsert_device', body: { localpart: 'alice', device_id: 'D1', display_name: 'Phone' }, status: 201 },
      { method: 'POST', path: '/_synapse/mas/upsert_device', body: { localpart: 'alice', device_id: 'D2' }, status: 201 },
      { method: 'POST', path: '/_synapse/mas/update_device_display_name', body: { localpart: 'alice', device_id: 'D2', display_name: 'Laptop' }, status: 200 },
      { method: 'POST', path: '/_synapse/mas/delete_device', body: { localpart: 'alice', device_id: 'D1' }, status: 204 },
      { method: 'POST', path: '/_synapse/mas/delete_device', body: { localpart: 'alice', device_id: 'D1' }, status: 204 },
      { method: 'POST', path: '/_synapse/mas/delete_device', body: { localpart: 'nobody', device_id: 'D1' }, status: 404 },
      { method: 'POST', path: '/_synapse/mas/sync_devices', body: { localpart: 'alice', devices: ['D2', 'D3'] }, status: 200 },
      { method: 'POST', path: '/_synapse/mas/sync_devices', body: { localpart: 'nobody', devices: [] }, status: 404 },
      { method: 'POST', path: '/_synapse/mas/sync_devices', body: { localpart: 'nobody', devices: ['X'] }, status: 404 },
      { method: 'POST', path: '/_synapse/mas/update_device_display_name', body: { localpart: 'alice', device_id: 'NOPE', display_name: 'x' }, status: 404 },
    ]);
  });

  it('profile, cross-signing, deactivation and reactivation', async () => {
    await hsa.setDisplayname('alice', 'Alice A');
    expect(hs.user('alice')!.displayName).toBe('Alice A');
    await hsa.setDisplayname('alice', null);
    expect(hs.user('alice')!.displayName).toBeNull();
    await hsa.allowCrossSigningReset('alice');
    await hsa.deleteUser('alice', true);
    expect(hs.user('alice')).toMatchObject({ deactivated: true, erased: true });
    expect(hs.devices('alice')).toEqual([]);
    await hsa.deleteUser('alice', true);
    await hsa.deleteUser('never-existed', false);
    await hsa.reactivateUser('alice');
    expect(hs.user('alice')!.deactivated).toBe(false);
    expect(hs.calls.slice(-7).map((c) => [c.path, c.body])).toEqual([
      ['/_synapse/mas/set_displayname', { localpart: 'alice', displayname: 'Alice A' }],
      ['/_synapse/mas/unset_displayname', { localpart: 'alice' }],
      ['/_synapse/mas/allow_cross_signing_reset', { localpart: 'alice' }],
      ['/_synapse/mas/delete_user', { localpart: 'alice', erase: true }],
      ['/_synapse/mas/delete_user', { localpart: 'alice', erase: true }],
      ['/_synapse/mas/delete_user', { localpart: 'never-existed', erase: false }],
      ['/_synapse/mas/reactivate_user', { localpart: 'alice' }],
    ]);
  });

  it('sends the shared secret as Bearer', () => {
    expect(new Set(hs.calls.map((c) => c.authorization))).toEqual(new Set([`Bearer ${SECRET}`]));
  });

  describe('failures', () => {
    it('a 500 is transient', async () => {
      hs.setFault({ kind: 'error' });
      try {
        await expect(hsa.syncDevices('alice', [])).rejects.toMatchObject({ transient: true, status: 500 });
      } finally {
        hs.setFault({ kind: 'none' });
      }
    });
    it('a timeout is transient', async () => {
      const slow = adapterFor(hs, 'synapse-mas', 200);
      hs.setFault({ kind: 'slow', delayMs: 600 });
      try {
        await expect(slow.syncDevices('alice', [])).rejects.toMatchObject({ transient: true, errcode: 'TIMEOUT' });
      } finally {
        hs.setFault({ kind: 'none' });
      }
    });
    it('connection refused is transient', async () => {
      await hs.goDown();
      try {
        await expect(hsa.syncDevices('alice', [])).rejects.toMatchObject({ transient: true, errcode: 'NETWORK' });
      } finally {
        await hs.comeUp();
      }
    });
    it('a wrong secret is permanent', async () => {
      const wrong = createHomeserverAdapter({ homeserver: hs.serverName, endpoint: `${hs.url}/`, api: 'synapse-mas', secret: 'wrong', timeout_ms: 2000 });
      await expect(wrong.syncDevices('alice', [])).rejects.toMatchObject({ transient: false, status: 403 });
    });
    it('withHomeserverRetries: retries transient failures a bounded number of times, not permanent ones', async () => {
      hs.setFault({ kind: 'error' }, /upsert_device/);
      const before = hs.callsTo('upsert_device').length;
      const retries: number[] = [];
      await expect(withHomeserverRetries(() => hsa.upsertDevice('alice', 'R1'), { attempts: 3, initialDelayMs: 5, onRetry: (_e, n) => retries.push(n) })).rejects.toMatchObject({
        transient: true,
      });
      expect(hs.callsTo('upsert_device').length - before).toBe(3);
      expect(retries).toEqual([1, 2]);
      hs.setFault({ kind: 'none' });
      let calls = 0;
      await withHomeserverRetries(
        async () => {
          calls++;
          if (calls === 1) {
            hs.setFault({ kind: 'error' }, /upsert_device/);
            try {
              return await hsa.upsertDevice('alice', 'R1');
            } finally {
              hs.setFault({ kind: 'none' });
            }
          }
          return hsa.upsertDevice('alice', 'R1');
        },
        { initialDelayMs: 5 },
      );
      expect(calls).toBe(2);
      expect(hs.devices('alice')).toContain('R1');
      const permanent = withHomeserverRetries(() => hsa.provisionUser({ localpart: '_x' }), { initialDelayMs: 5 });
      const n = hs.callsTo('provision_user').length;
      await expect(permanent).rejects.toMatchObject({ transient: false });
      expect(hs.callsTo('provision_user').length - n).toBe(1);
    });
  });
});

describe('synapse-admin adapter (older contract, §4)', () => {
  let hs: HomeserverStandin;
  let hsa: HomeserverAdapter;
  beforeAll(async () => {
    hs = await startHomeserverStandin({
      mode: 'msc3861',
      legacy: { issuer: 'http://127.0.0.1:9/', clientId: 'c', clientSecret: 's', clientAuthMethod: 'client_secret_basic', adminToken: ADMIN_TOKEN },
    });
    hsa = adapterFor(hs, 'synapse-admin');
  });
  afterAll(() => hs?.stop());
  const U = encodeURIComponent('@bob:example.test');

  it('is chosen by matrix.api', () => {
    expect(hsa).toBeInstanceOf(SynapseAdminAdapter);
  });

  it('provisionUser: PUT v2 user with external_ids, displayname, threepids; unset ⇒ "" / []', async () => {
    expect(await hsa.provisionUser({ localpart: 'bob', subject: '01JSUB', displayname: 'Bob', emails: ['b@example.org'] })).toBe('created');
    expect(await hsa.provisionUser({ localpart: 'bob', subject: '01JSUB', displayname: null, avatarUrl: null, emails: null })).toBe('updated');
    expect(hs.calls.filter((c) => c.path.startsWith('/_synapse/admin/v2/users/')).map(wire)).toEqual([
      {
        method: 'PUT',
        path: `/_synapse/admin/v2/users/${U}`,
        body: { external_ids: [{ auth_provider: 'oauth-delegated', external_id: '01JSUB' }], displayname: 'Bob', threepids: [{ medium: 'email', address: 'b@example.org' }] },
        status: 201,
      },
      {
        method: 'PUT',
        path: `/_synapse/admin/v2/users/${U}`,
        body: { external_ids: [{ auth_provider: 'oauth-delegated', external_id: '01JSUB' }], displayname: '', avatar_url: '', threepids: [] },
        status: 200,
      },
    ]);
    expect(hs.user('bob')!.externalIds.get('oauth-delegated')).toBe('01JSUB');
  });

  it('isLocalpartAvailable and queryUser', async () => {
    expect(await hsa.isLocalpartAvailable('carol')).toBe(true);
    expect(await hsa.isLocalpartAvailable('bob')).toBe(false);
    expect(await hsa.isLocalpartAvailable('Bob!')).toBe(false);
    expect(await hsa.queryUser('bob')).toEqual({ userId: '@bob:example.test', displayName: null, avatarUrl: null, isSuspended: false, isDeactivated: false });
    expect(await hsa.queryUser('nobody')).toBeNull();
    expect(hs.calls.at(-1)).toMatchObject({ method: 'GET', path: `/_synapse/admin/v2/users/${encodeURIComponent('@nobody:example.test')}`, status: 404 });
  });

  it('upsertDevice: POST devices (201) then the rename PUT when a name is given', async () => {
    const n = hs.calls.length;
    await hsa.upsertDevice('bob', 'B 1/x', 'Phone');
    await hsa.upsertDevice('bob', 'B2');
    expect(hs.calls.slice(n).map(wire)).toEqual([
      { method: 'POST', path: `/_synapse/admin/v2/users/${U}/devices`, body: { device_id: 'B 1/x' }, status: 201 },
      { method: 'PUT', path: `/_synapse/admin/v2/users/${U}/devices/${encodeURIComponent('B 1/x')}`, body: { display_name: 'Phone' }, status: 200 },
      { method: 'POST', path: `/_synapse/admin/v2/users/${U}/devices`, body: { device_id: 'B2' }, status: 201 },
    ]);
    expect(hs.user('bob')!.devices.get('B 1/x')!.displayName).toBe('Phone');
  });

  it('syncDevices: list, delete_devices (sent even when empty), POST each missing; dehydrated left alone', async () => {
    hs.addDevice('bob', 'DEHYD', { dehydrated: true });
    const n = hs.calls.length;
    await hsa.syncDevices('bob', ['B2', 'B3']);
    await hsa.syncDevices('bob', ['B2', 'B3']);
    expect(hs.calls.slice(n).map(wire)).toEqual([
      { method: 'GET', path: `/_synapse/admin/v2/users/${U}/devices`, status: 200 },
      { method: 'POST', path: `/_synapse/admin/v2/users/${U}/delete_devices`, body: { devices: ['B 1/x'] }, status: 200 },
      { method: 'POST', path: `/_synapse/admin/v2/users/${U}/devices`, body: { device_id: 'B3' }, status: 201 },
      { method: 'GET', path: `/_synapse/admin/v2/users/${U}/devices`, status: 200 },
      { method: 'POST', path: `/_synapse/admin/v2/users/${U}/delete_devices`, body: { devices: [] }, status: 200 },
    ]);
    expect(hs.devices('bob')).toEqual(['B2', 'B3', 'DEHYD']);
  });

  it('deleteDevice, rename, displayname, cross-signing, deactivate, reactivate', async () => {
    const n = hs.calls.length;
    await hsa.deleteDevice('bob', 'B3');
    await hsa.deleteDevice('bob', 'B3');
    await hsa.updateDeviceDisplayName('bob', 'B2', 'Tablet');
    await hsa.setDisplayname('bob', 'Bobby');
    await hsa.setDisplayname('bob', null);
    await hsa.allowCrossSigningReset('bob');
    await hsa.deleteUser('bob', false);
    await hsa.reactivateUser('bob');
    expect(hs.calls.slice(n).map(wire)).toEqual([
      { method: 'DELETE', path: `/_synapse/admin/v2/users/${U}/devices/B3`, status: 200 },
      { method: 'DELETE', path: `/_synapse/admin/v2/users/${U}/devices/B3`, status: 200 },
      { method: 'PUT', path: `/_synapse/admin/v2/users/${U}/devices/B2`, body: { display_name: 'Tablet' }, status: 200 },
      { method: 'PUT', path: `/_matrix/client/v3/profile/${U}/displayname`, body: { displayname: 'Bobby' }, status: 200 },
      { method: 'PUT', path: `/_matrix/client/v3/profile/${U}/displayname`, body: { displayname: '' }, status: 200 },
      { method: 'POST', path: `/_synapse/admin/v1/users/${U}/_allow_cross_signing_replacement_without_uia`, body: {}, status: 404 },
      { method: 'POST', path: `/_synapse/admin/v1/deactivate/${U}`, body: { erase: false }, status: 200 },
      { method: 'PUT', path: `/_synapse/admin/v2/users/${U}`, body: { deactivated: false }, status: 200 },
    ]);
    expect(hs.user('bob')).toMatchObject({ deactivated: false, displayName: null });
  });

  it('sends the admin token as Bearer', () => {
    expect(new Set(hs.calls.map((c) => c.authorization))).toEqual(new Set([`Bearer ${ADMIN_TOKEN}`]));
    expect(hs.unexpectedErrors).toEqual([]);
  });

  it('a 500 is transient, a refused token permanent', async () => {
    hs.setFault({ kind: 'error', status: 502 });
    await expect(hsa.deleteDevice('bob', 'B2')).rejects.toMatchObject({ transient: true, status: 502 });
    hs.setFault({ kind: 'none' });
    const wrong = createHomeserverAdapter({ homeserver: hs.serverName, endpoint: `${hs.url}/`, api: 'synapse-admin', secret: 'not-the-admin-token', timeout_ms: 2000 });
    // msc3861 introspects an unknown token at the OP (unreachable here): Synapse answers 503 → transient.
    await expect(wrong.deleteDevice('bob', 'B2')).rejects.toMatchObject({ transient: true, status: 503 });
  });
});
