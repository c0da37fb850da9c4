import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { checkOrder, registerPublicClient, revoke, seedUsers, signOutAll, type WorkloadUser } from '../../support/signout-workload.js';

/**
 * Fault: Causeway is SIGKILLed at the worst moments (test-only hook CAUSEWAY_FAULT):
 * - after the outbox rows are committed, before they are published (or, embedded, delivered);
 * - after the homeserver confirmed a call, before the row is marked delivered and the message acknowledged.
 * After a restart nothing is lost; the second case repeats that one call (idempotent) and keeps order.
 */
async function exitedBy(cw: CausewayProcess, timeoutMs: number): Promise<void> {
  await Promise.race([cw.exited, new Promise((_, reject) => setTimeout(() => reject(new Error('causeway did not crash as armed')), timeoutMs))]);
}

describe('SIGKILL between the outbox write and the publish (Redis Streams)', () => {
  let redis: TestRedis;
  let hs: HomeserverStandin;
  let database: TestDatabase;
  let cw: CausewayProcess;
  let db: CausewayDb;
  let users: WorkloadUser[];
  const config = () => ({
    matrix: { endpoint: `${hs.url}/`, timeout_ms: 2000 },
    redis: { url: redis.url, key_prefix: 'fault-crash:' },
    events: { shards: 4, backoff_initial_ms: 100, backoff_max_ms: 1000, claim_idle: 2 },
  });

  beforeAll(async () => {
    redis = await startRedis();
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    database = await freshDatabase('postgres', '/tmp');
  });
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await database?.drop();
    await hs?.stop();
    await redis?.stop();
  });

  it('after-outbox-write: the committed rows are published and delivered after the restart', async () => {
    cw = await startCauseway({ database, config: config(), env: { CAUSEWAY_FAULT: 'after-outbox-write' } });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(database);
    const clientId = await registerPublicClient(cw.url);
    users = await seedUsers(db, hs, clientId, 10, 3, 'cw');
    // The first sign-out's commit wakes the relay, which dies before XADD; the revocation itself committed.
    await revoke(cw.url, clientId, users[0]!.sessions[0]!.accessToken).catch(() => undefined);
    users[0]!.signedOut.push(users[0]!.sessions[0]!.deviceId);
    await exitedBy(cw, 10_000);
    const rows = await db.outbox();
    expect(rows.length).toBe(1);
    expect(rows[0]!.published_at).toBeNull();
    expect(hs.callsTo('sync_devices')).toHaveLength(0);

    cw = await startCauseway({ database, dir: cw.dir, port: cw.port, config: config() });
    await signOutAll([cw.url], clientId, users.slice(1), 2, 5);
    await waitUntil(async () => (await db.undelivered()) === 0, 20_000, 'everything to be delivered after the restart');
    const report = checkOrder(hs, users);
    const all = await db.outbox();
    process.stderr.write(
      `[fault matrix] SIGKILL after outbox write (redis): events sent ${all.length} (1 committed before the kill), delivered ${all.filter((r) => r.delivered_at !== null).length}, order violations ${report.orderViolations}\n`,
    );
    expect(report).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
    expect(hs.devices(users[0]!.localpart)).toEqual(
      users[0]!.sessions
        .slice(1)
        .map((s) => s.deviceId)
        .sort(),
    );
    await cw.stop();
  });

  it('after-homeserver-call: the confirmed but unacknowledged event is taken over and repeated, nothing lost', async () => {
    cw = await startCauseway({ database, dir: cw.dir, port: cw.port, config: config(), env: { CAUSEWAY_FAULT: 'after-homeserver-call:3' } });
    const clientId = await registerPublicClient(cw.url);
    const more = await seedUsers(db, hs, clientId, 8, 3, 'ch');
    hs.clearCalls();
    // Sign-outs one at a time so the third homeserver call is a known one.
    const sequence: { user: WorkloadUser; device: string }[] = [];
    for (const u of more) {
      if (cw.proc.exitCode !== null || cw.proc.signalCode !== null) break;
      // Recorded only once Causeway confirmed it: on a loaded machine the kill can land while a revocation
      // is in flight, and one that never committed must not count as signed out (signOutAll retries it).
      const confirmed = await revoke(cw.url, clientId, u.sessions[0]!.accessToken).then(
        () => true,
        () => false,
      );
      if (!confirmed) break;
      u.signedOut.push(u.sessions[0]!.deviceId);
      sequence.push({ user: u, device: u.sessions[0]!.deviceId });
      await new Promise((r) => setTimeout(r, 150));
    }
    await exitedBy(cw, 10_000);
    const confirmedBeforeKill = hs.callsTo('sync_devices', { ok: true }).length;
    expect(confirmedBeforeKill).toBe(3);
    const undeliveredAtKill = await db.undelivered();
    expect(undeliveredAtKill).toBeGreaterThanOrEqual(1);

    // A new process (a new consumer) takes the dead consumer's pending message over after claim_idle.
    cw = await startCauseway({ database, dir: cw.dir, port: cw.port, config: config() });
    const rest = more.filter((u) => u.signedOut.length === 0);
    await signOutAll([cw.url], clientId, rest, 1, 4);
    await signOutAll([cw.url], clientId, more, 1, 4);
    await waitUntil(async () => (await db.undelivered()) === 0, 30_000, 'everything to be delivered after the restart');

    const third = hs.callsTo('sync_devices', { ok: true })[2]!;
    const thirdUser = (third.body as { localpart: string }).localpart;
    const repeats = hs.callsTo('sync_devices', { ok: true }).filter((c) => (c.body as { localpart: string }).localpart === thirdUser);
    const report = checkOrder(hs, more);
    const rows = (await db.outbox()).filter((r) => r.user_key.startsWith('ch'));
    process.stderr.write(
      `[fault matrix] SIGKILL after homeserver call (redis): events sent ${rows.length}, delivered ${rows.filter((r) => r.delivered_at !== null).length}, ` +
        `calls for the killed event's user ${repeats.length} (repeat is idempotent), order violations ${report.orderViolations}\n`,
    );
    expect(repeats.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.delivered_at !== null)).toBe(true);
    expect(report).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
  });
});

describe('SIGKILL between the outbox write and the delivery (embedded, SQLite)', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let db: CausewayDb;
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  it('after-outbox-write: delivered after the restart', async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    const config = { matrix: { endpoint: `${hs.url}/`, timeout_ms: 2000 } };
    cw = await startCauseway({ config, env: { CAUSEWAY_FAULT: 'after-outbox-write' } });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(cw.database);
    const clientId = await registerPublicClient(cw.url);
    const users = await seedUsers(db, hs, clientId, 3, 2, 'ce');
    await revoke(cw.url, clientId, users[0]!.sessions[0]!.accessToken).catch(() => undefined);
    users[0]!.signedOut.push(users[0]!.sessions[0]!.deviceId);
    await exitedBy(cw, 10_000);
    expect(await db.undelivered()).toBe(1);
    cw = await startCauseway({ database: cw.database, dir: cw.dir, port: cw.port, config });
    await waitUntil(async () => (await db.undelivered()) === 0, 10_000, 'the sign-out to be delivered');
    expect(checkOrder(hs, users)).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
  });
});
