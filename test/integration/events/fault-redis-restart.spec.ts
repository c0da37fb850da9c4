import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { checkOrder, registerPublicClient, seedUsers, signOutAll, type WorkloadUser } from '../../support/signout-workload.js';

/**
 * Fault: Redis is killed (SIGKILL) in the middle of the stream and restarted empty (no persistence).
 * At the moment of the kill, events are published but undelivered (the homeserver answers 500), so
 * they exist only in the lost streams and in the outbox; more sign-outs happen while Redis is gone.
 * The relay must notice the loss and republish from the outbox; consumers recreate their group.
 */
const USERS = 40;
const SESSIONS = 6;

describe('Redis killed and restarted without persistence mid-stream', () => {
  let redis: TestRedis;
  let hs: HomeserverStandin;
  let database: TestDatabase;
  let cw: CausewayProcess;
  let db: CausewayDb;
  let users: WorkloadUser[];
  let clientId: string;
  let pendingAtKill = 0;

  beforeAll(async () => {
    redis = await startRedis();
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    database = await freshDatabase('postgres', '/tmp');
    cw = await startCauseway({
      database,
      config: {
        matrix: { endpoint: `${hs.url}/`, timeout_ms: 2000 },
        redis: { url: redis.url, key_prefix: 'fault-redis:' },
        events: { shards: 4, backoff_initial_ms: 100, backoff_max_ms: 1000, max_attempts: 1000, claim_idle: 3 },
        logging: { level: 'info' },
      },
    });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(database);
    clientId = await registerPublicClient(cw.url);
    users = await seedUsers(db, hs, clientId, USERS, SESSIONS, 'rr');

    // Phase 1: delivered normally.
    await signOutAll([cw.url], clientId, users, 2, 10);
    await waitUntil(async () => (await db.undelivered()) === 0, 20_000, 'phase 1 to be delivered');
    // Phase 2: published, not deliverable (500), then Redis dies with them.
    hs.setFault({ kind: 'error', status: 500 }, /^\/_synapse\/mas\//);
    await signOutAll([cw.url], clientId, users, 2, 10);
    await waitUntil(async () => (await db.outbox()).filter((r) => r.delivered_at === null).every((r) => r.published_at !== null), 10_000, 'phase 2 to be published');
    pendingAtKill = await db.undelivered();
    await redis.kill();
    // Phase 3: sign-outs while Redis is gone (the outbox keeps them).
    await signOutAll([cw.url], clientId, users, 1, 10);
    await new Promise((r) => setTimeout(r, 1500));
    await redis.restart();
    hs.setFault({ kind: 'none' });
    await waitUntil(async () => (await db.undelivered()) === 0, 60_000, 'everything to be delivered after the restart', 250);
  }, 150_000);

  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await database?.drop();
    await hs?.stop();
    await redis?.stop();
  });

  it('republished what Redis lost and delivered everything in order', async () => {
    const rows = await db.outbox();
    const report = checkOrder(hs, users);
    process.stderr.write(
      `[fault matrix] Redis SIGKILL + empty restart: events sent ${rows.length} (${pendingAtKill} published-undelivered at the kill), ` +
        `delivered ${rows.filter((r) => r.delivered_at !== null).length}, dead ${rows.filter((r) => r.dead_at !== null).length}, ` +
        `sync_devices calls ${report.syncCalls}, order violations ${report.orderViolations}\n`,
    );
    expect(pendingAtKill).toBeGreaterThan(0);
    expect(rows).toHaveLength(USERS * 5);
    expect(rows.every((r) => r.delivered_at !== null && r.dead_at === null)).toBe(true);
    expect(report.details).toEqual([]);
    expect(report).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
    expect(cw.logs.some((l) => l.includes('Redis lost its data; republished'))).toBe(true);
  });

  it('is healthy again', async () => {
    const ready = (await (await fetch(`${cw.url}/health/ready`)).json()) as { status: string; components: Record<string, { status: string }> };
    expect(ready.components.redis!.status).toBe('up');
    expect(ready.components.events!.status).toBe('up');
  });
});
