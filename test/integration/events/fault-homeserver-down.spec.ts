import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { checkOrder, registerPublicClient, seedUsers, signOutAll, type WorkloadUser } from '../../support/signout-workload.js';

/**
 * Fault: the homeserver is down (connection refused) while 1,000 sign-outs of 100 users happen
 * through real token revocations. The outage lasts the full 60 s, in real time; the back-off is
 * capped at 2 s so the drain starts soon after the homeserver is back. Afterwards every
 * device removal has arrived, in each user's order, once or idempotently repeated, and nothing is
 * left undelivered or dead.
 */
const OUTAGE_MS = 60_000;
const USERS = 100;
/** Ten are signed out during the outage, one more right after it (racing the drain), one stays signed in. */
const SESSIONS = 12;

describe('homeserver down during 1,000 sign-outs (Redis Streams, PostgreSQL)', () => {
  let redis: TestRedis;
  let hs: HomeserverStandin;
  let database: TestDatabase;
  let cw: CausewayProcess;
  let db: CausewayDb;
  let users: WorkloadUser[];

  beforeAll(async () => {
    redis = await startRedis();
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    database = await freshDatabase('postgres', '/tmp');
    cw = await startCauseway({
      database,
      config: {
        matrix: { endpoint: `${hs.url}/`, timeout_ms: 2000 },
        redis: { url: redis.url, key_prefix: 'fault-down:' },
        events: { shards: 8, backoff_initial_ms: 200, backoff_max_ms: 2000, max_attempts: 1000, claim_idle: 5 },
        logging: { level: 'info' },
      },
    });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(database);
    const clientId = await registerPublicClient(cw.url);
    users = await seedUsers(db, hs, clientId, USERS, SESSIONS, 'hd');

    await hs.goDown();
    const started = Date.now();
    const sent = await signOutAll([cw.url], clientId, users, 10, 25);
    expect(sent).toBe(USERS * 10);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - started))));
    expect(hs.calls.length).toBe(0);
    await hs.comeUp();
    expect(await signOutAll([cw.url], clientId, users, 1, 25)).toBe(USERS);
    await waitUntil(async () => (await db.undelivered()) === 0, 60_000, 'every sign-out to be delivered', 250);
  }, 200_000);

  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await database?.drop();
    await hs?.stop();
    await redis?.stop();
  });

  it('delivered every sign-out, in order per user, nothing lost or dead', async () => {
    const rows = await db.outbox();
    const report = checkOrder(hs, users);
    // Failed attempts per user (a user's pending rows fail together, so its highest count).
    const attempts = new Map<string, number>();
    for (const r of rows) attempts.set(r.user_key, Math.max(attempts.get(r.user_key) ?? 0, r.attempts));
    const failedCalls = [...attempts.values()].reduce((a, b) => a + b, 0);
    process.stderr.write(
      `[fault matrix] homeserver down ${OUTAGE_MS / 1000} s: events sent ${rows.length}, delivered ${rows.filter((r) => r.delivered_at !== null).length}, ` +
        `dead ${rows.filter((r) => r.dead_at !== null).length}, sync_devices calls ${report.syncCalls}, order violations ${report.orderViolations}, ` +
        `failed attempts ${failedCalls} (most for one user ${Math.max(...attempts.values())})\n`,
    );
    // The circuit breaker: while the homeserver is down one user at a time probes it (every 2 s at
    // most here), the others wait without calling. Without it each of the 100 users would have
    // failed on its own back-off, about 30 times each in 60 s.
    expect(failedCalls).toBeLessThan(OUTAGE_MS / 1000 + USERS);
    expect(Math.max(...attempts.values())).toBeLessThanOrEqual(5);
    expect(rows).toHaveLength(USERS * 11);
    expect(rows.every((r) => r.delivered_at !== null && r.dead_at === null)).toBe(true);
    expect(report.details).toEqual([]);
    expect(report).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
    for (const u of users) expect(hs.devices(u.localpart)).toEqual([u.sessions[11]!.deviceId]);
    expect(hs.unexpectedErrors).toEqual([]);
  });

  it('revoked tokens were refused by the homeserver once their devices were gone', async () => {
    const sample = users.slice(0, 5).flatMap((u) => u.sessions.slice(0, 2));
    for (const s of sample) {
      const res = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${s.accessToken}` } });
      expect(res.status).toBe(401);
    }
  });
});
