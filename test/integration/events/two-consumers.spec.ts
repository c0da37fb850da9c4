import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { checkOrder, overlappingCallsPerUser, registerPublicClient, seedUsers, signOutAll, type WorkloadUser } from '../../support/signout-workload.js';

/**
 * Two Causeway processes (two replicas) on one PostgreSQL and one Redis, both taking sign-outs and
 * both consuming the same streams: the shards are split between them, no user's events are reordered,
 * no user is handled by both at once (the homeserver never sees overlapping calls for one user), and
 * when one replica is SIGKILLed the other takes its shards and its unacknowledged messages over.
 */
const USERS = 60;
const SESSIONS = 6;
const PREFIX = 'two:';

describe('two Causeway processes consuming the same streams', () => {
  let redis: TestRedis;
  let r: Redis;
  let hs: HomeserverStandin;
  let database: TestDatabase;
  let a: CausewayProcess;
  let b: CausewayProcess;
  let db: CausewayDb;
  let users: WorkloadUser[];
  let clientId: string;

  beforeAll(async () => {
    redis = await startRedis();
    r = redis.client();
    // Slow answers widen every call's window, so two consumers on one user would show as overlap.
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    hs.setFault({ kind: 'slow', delayMs: 15 }, /^\/_synapse\/mas\//);
    database = await freshDatabase('postgres', '/tmp');
    const config = {
      replicas: 2,
      matrix: { endpoint: `${hs.url}/`, timeout_ms: 2000 },
      redis: { url: redis.url, key_prefix: PREFIX },
      events: { shards: 8, backoff_initial_ms: 100, backoff_max_ms: 1000, claim_idle: 3 },
      logging: { level: 'info' },
    };
    a = await startCauseway({ database, config });
    b = await startCauseway({ database, config });
    hs.setEndpoint(a.issuer);
    db = await CausewayDb.open(database);
    clientId = await registerPublicClient(a.url);
    users = await seedUsers(db, hs, clientId, USERS, SESSIONS, 'tc');
    // Let both consumers balance the shards (heartbeats every lease/3).
    await waitUntil(async () => new Set(await leaseOwners()).size === 2 && (await leaseOwners()).length === 8, 15_000, 'both consumers to hold shards');
  }, 60_000);

  async function leaseOwners(): Promise<string[]> {
    const owners: string[] = [];
    for (let n = 0; n < 8; n++) {
      const o = await r.get(`${PREFIX}events:lease:${n}`);
      if (o) owners.push(o);
    }
    return owners;
  }

  afterAll(async () => {
    await db?.close();
    await Promise.all([a?.dispose(), b?.dispose()]);
    await database?.drop();
    await hs?.stop();
    await redis?.stop();
  });

  it('splits the shards and keeps each user in order with no concurrent handling', async () => {
    const owners = await leaseOwners();
    const counts = [...new Set(owners)].map((o) => owners.filter((x) => x === o).length);
    expect(counts.sort()).toEqual([4, 4]);

    await signOutAll([a.url, b.url], clientId, users, 3, 20);
    await waitUntil(async () => (await db.undelivered()) === 0, 30_000, 'every sign-out to be delivered');
    const report = checkOrder(hs, users);
    const overlaps = overlappingCallsPerUser(hs.calls);
    const rows = await db.outbox();
    process.stderr.write(
      `[fault matrix] two consumers: events sent ${rows.length}, delivered ${rows.filter((x) => x.delivered_at !== null).length}, ` +
        `sync_devices calls ${report.syncCalls}, order violations ${report.orderViolations}, concurrent calls for one user ${overlaps}\n`,
    );
    expect(report.details).toEqual([]);
    expect(report).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
    expect(overlaps).toBe(0);
  });

  it('when one process is SIGKILLed, the other takes its shards and messages over', async () => {
    // Messages held by B (unacknowledged: the homeserver fails) when B dies.
    hs.setFault({ kind: 'error', status: 500 }, /^\/_synapse\/mas\//);
    await signOutAll([a.url, b.url], clientId, users, 1, 20);
    const aOwner = JSON.parse(a.logs.find((l) => l.includes('event bus on Redis Streams started'))!).consumer as string;
    const bOwner = (await leaseOwners()).find((o) => o !== aOwner);
    expect(bOwner).toBeDefined();
    await waitUntil(
      async () => {
        let held = 0;
        for (let n = 0; n < 8; n++) {
          const consumers = (await r.xinfo('CONSUMERS', `${PREFIX}events:${n}`, 'causeway').catch(() => [])) as unknown[][];
          for (const c of consumers) if (c[1] === bOwner) held += Number(c[3]);
        }
        return held > 0;
      },
      10_000,
      'B to hold unacknowledged messages',
    );
    await b.kill();
    hs.setFault({ kind: 'slow', delayMs: 15 }, /^\/_synapse\/mas\//);
    await waitUntil(async () => new Set(await leaseOwners()).size === 1 && (await leaseOwners()).length === 8, 20_000, 'A to take every shard');
    await waitUntil(async () => (await db.undelivered()) === 0, 30_000, 'B’s events to be delivered by A');
    const report = checkOrder(hs, users);
    const rows = await db.outbox();
    process.stderr.write(
      `[fault matrix] one of two consumers SIGKILLed: events sent ${rows.length}, delivered ${rows.filter((x) => x.delivered_at !== null).length}, ` +
        `order violations ${report.orderViolations}, concurrent calls for one user ${overlappingCallsPerUser(hs.calls)}\n`,
    );
    expect(report).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
    expect(overlappingCallsPerUser(hs.calls)).toBe(0);
    expect(a.logs.some((l) => l.includes('took over messages from an idle consumer'))).toBe(true);
  });
});
