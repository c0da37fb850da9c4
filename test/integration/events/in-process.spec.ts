import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';

/**
 * The embedded bus (no Redis): committed outbox rows reach the homeserver stand-in, per user in
 * order, surviving a homeserver outage; failures are retried with back-off; permanent failures and
 * exhausted retries become dead letters that the status shows.
 */
describe('in-process event delivery (SQLite, no Redis)', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let db: CausewayDb;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    cw = await startCauseway({
      config: {
        matrix: { endpoint: `${hs.url}/`, timeout_ms: 1000 },
        events: { backoff_initial_ms: 100, backoff_max_ms: 1000, max_attempts: 8 },
        admin: { token: 'admin-token-0123456789abcdef' },
      },
    });
    hs.setEndpoint(`${cw.url}/`);
    db = await CausewayDb.open(cw.database);
  });
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  it('delivers a sign-out as sync_devices with the devices of the remaining sessions', async () => {
    const uid = await db.createUser('alice');
    const s1 = await db.createSession(uid, 'ADEV1');
    await db.createSession(uid, 'ADEV2');
    hs.addUser('alice', { devices: ['ADEV1', 'ADEV2'] });
    await db.signOut([s1]);
    const call = await hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart: string }).localpart === 'alice', 10_000);
    expect(call).toMatchObject({ status: 200, body: { localpart: 'alice', devices: ['ADEV2'] } });
    expect(hs.devices('alice')).toEqual(['ADEV2']);
    await waitUntil(async () => (await db.undelivered()) === 0, 5000, 'the outbox row to be marked delivered');
  });

  it('keeps retrying while the homeserver is down, then delivers', async () => {
    const uid = await db.createUser('bob');
    const s = await db.createSession(uid, 'BDEV');
    hs.addUser('bob', { devices: ['BDEV'] });
    await hs.goDown();
    await db.signOut([s]);
    await new Promise((r) => setTimeout(r, 800));
    expect(hs.devices('bob')).toEqual(['BDEV']);
    await hs.comeUp();
    await waitUntil(() => hs.devices('bob').length === 0, 10_000, 'bob’s device to be removed');
  });

  it('turns a permanent refusal into a dead letter and goes on with the user’s later events', async () => {
    // The homeserver does not know this user: sync_devices with a device to add is a 404.
    const uid = await db.createUser('carol');
    await db.createSession(uid, 'CDEV');
    await db.enqueue('carol', 'devices.sync');
    await db.enqueue('carol', 'user.deactivate', { erase: false });
    await waitUntil(async () => (await db.undelivered()) === 0, 10_000, 'carol’s rows to settle');
    const rows = (await db.outbox()).filter((r) => r.user_key === 'carol');
    expect(rows.map((r) => [r.kind, r.dead_at !== null, r.delivered_at !== null])).toEqual([
      ['devices.sync', true, false],
      // delete_user on a user the homeserver never knew counts as done
      ['user.deactivate', false, true],
    ]);
    expect(rows[0]!.last_error).toMatch(/404/);
  });

  it('gives up after max_attempts of transient failures (dead letter), and the status reports it', async () => {
    const uid = await db.createUser('dave');
    hs.addUser('dave', { devices: ['DDEV'] });
    const s = await db.createSession(uid, 'DDEV');
    hs.setFault({ kind: 'error', status: 503 }, /sync_devices/);
    try {
      await db.signOut([s]);
      await waitUntil(async () => (await db.outbox()).some((r) => r.user_key === 'dave' && r.dead_at !== null), 15_000, 'dave’s row to be dead-lettered');
      const attempts = hs.callsTo('sync_devices').filter((c) => (c.body as { localpart: string }).localpart === 'dave');
      expect(attempts).toHaveLength(8);
    } finally {
      hs.setFault({ kind: 'none' });
    }
    const res = await fetch(`${cw.url}/api/admin/v1/events/status`, { headers: { Authorization: 'Bearer admin-token-0123456789abcdef' } });
    if (res.status !== 404) expect(await res.json()).toMatchObject({ driver: 'in-process', dead_letters: 2 });
  });

  it('delivers every event kind with its homeserver call, in the order written', async () => {
    const uid = await db.createUser('gwen');
    await db.createSession(uid, 'GDEV');
    hs.addUser('gwen', { devices: ['GDEV'] });
    hs.clearCalls();
    await db.enqueue('gwen', 'user.provision', { displayname: 'Gwen', emails: ['g@example.org'], locked: false });
    await db.enqueue('gwen', 'user.displayname', { displayname: 'Gwen G.' });
    await db.enqueue('gwen', 'device.rename', { deviceId: 'GDEV', displayName: 'Phone' });
    await db.enqueue('gwen', 'device.rename', { deviceId: 'GONE', displayName: 'Old phone' });
    await db.enqueue('gwen', 'user.deactivate', { erase: false });
    await db.enqueue('gwen', 'user.reactivate');
    await db.enqueue('gwen', 'user.displayname', { displayname: null });
    await waitUntil(async () => (await db.undelivered()) === 0, 10_000, 'gwen’s events');
    expect(hs.calls.filter((c) => c.path.startsWith('/_synapse/mas/')).map((c) => [c.path.slice('/_synapse/mas/'.length), c.body, c.status])).toEqual([
      ['provision_user', { localpart: 'gwen', set_displayname: 'Gwen', set_emails: ['g@example.org'], locked: false }, 200],
      ['sync_devices', { localpart: 'gwen', devices: ['GDEV'] }, 200],
      ['set_displayname', { localpart: 'gwen', displayname: 'Gwen G.' }, 200],
      ['update_device_display_name', { localpart: 'gwen', device_id: 'GDEV', display_name: 'Phone' }, 200],
      // A device already signed out: nothing to rename, counted as done.
      ['update_device_display_name', { localpart: 'gwen', device_id: 'GONE', display_name: 'Old phone' }, 404],
      ['delete_user', { localpart: 'gwen', erase: false }, 200],
      ['reactivate_user', { localpart: 'gwen' }, 200],
      ['unset_displayname', { localpart: 'gwen' }, 200],
    ]);
    expect((await db.outbox()).filter((r) => r.user_key === 'gwen').every((r) => r.delivered_at !== null)).toBe(true);
    expect(hs.user('gwen')).toMatchObject({ displayName: null, deactivated: false, emails: new Set() });
  });

  it('reports the bus in /health/ready and /metrics', async () => {
    const ready = (await (await fetch(`${cw.url}/health/ready`)).json()) as { components: Record<string, { status: string; detail: string }> };
    expect(ready.components.events).toMatchObject({ status: 'up' });
    expect(ready.components.events!.detail).toMatch(/^in-process: 0 undelivered/);
    const metrics = await (await fetch(`${cw.url}/metrics`)).text();
    expect(metrics).toMatch(/causeway_events_delivery_latency_seconds_count\{kind="devices.sync"\} [1-9]/);
    expect(metrics).toMatch(/causeway_events_dead_letters 2/);
    expect(metrics).toMatch(/causeway_events_delivery_failures_total\{reason="network"\} [1-9]/);
    expect(metrics).toMatch(/causeway_events_queue_depth\{shard="local"\} 0/);
  });
});
