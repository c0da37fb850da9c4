import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { freshDatabase, type TestDatabase } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startRedis, type TestRedis } from '../../support/redis-server.js';
import { checkOrder, registerPublicClient, revoke, seedUsers } from '../../support/signout-workload.js';

/**
 * The Redis Streams bus on PostgreSQL: a real revocation travels outbox → relay → shard stream →
 * consumer → homeserver; streams live under redis.key_prefix; dead letters land in the dead-letter
 * stream and can be replayed; a graceful stop hands held messages back.
 */
const PREFIX = 'cwtest:';
const ADMIN = 'admin-token-0123456789abcdef';

describe('Redis Streams bus', () => {
  let redis: TestRedis;
  let r: Redis;
  let hs: HomeserverStandin;
  let database: TestDatabase;
  let cw: CausewayProcess;
  let db: CausewayDb;
  let clientId: string;
  const config = () => ({
    matrix: { endpoint: `${hs.url}/`, timeout_ms: 1000 },
    redis: { url: redis.url, key_prefix: PREFIX },
    events: { shards: 4, backoff_initial_ms: 50, backoff_max_ms: 300, max_attempts: 4, claim_idle: 2 },
    admin: { token: ADMIN },
  });

  beforeAll(async () => {
    redis = await startRedis();
    r = redis.client();
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    database = await freshDatabase('postgres', '/tmp');
    cw = await startCauseway({ database, config: config() });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(database);
    clientId = await registerPublicClient(cw.url);
  });
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await database?.drop();
    await hs?.stop();
    await redis?.stop();
  });

  it('delivers a revocation through the shard stream and acknowledges it', async () => {
    const [u] = await seedUsers(db, hs, clientId, 1, 3, 'rb');
    await revoke(cw.url, clientId, u!.sessions[0]!.accessToken);
    u!.signedOut.push(u!.sessions[0]!.deviceId);
    await waitUntil(() => hs.devices(u!.localpart).length === 2, 10_000, 'the device to leave the homeserver');
    expect(checkOrder(hs, [u!])).toMatchObject({ orderViolations: 0, notRemoved: 0, wronglyRemoved: 0 });
    // The token stopped introspecting at once, and the device is gone: whoami refuses it.
    expect((await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${u!.sessions[0]!.accessToken}` } })).status).toBe(401);

    const keys = await r.keys(`${PREFIX}events:*`);
    expect(keys).toEqual(expect.arrayContaining([`${PREFIX}events:epoch`, `${PREFIX}events:relay`, `${PREFIX}events:consumers`]));
    expect(keys.filter((k) => /^cwtest:events:\d+$/.test(k)).length).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => (await db.outbox()).every((row) => row.delivered_at !== null && row.published_at !== null), 5000, 'the row to be published and delivered');
    // XACK only after delivery: nothing left pending in any shard.
    await waitUntil(
      async () => {
        for (let n = 0; n < 4; n++) {
          const summary = (await r.xpending(`${PREFIX}events:${n}`, 'causeway').catch(() => [0])) as [number];
          if (summary[0] !== 0) return false;
        }
        return true;
      },
      5000,
      'every message to be acknowledged',
    );
  });

  it('moves exhausted events to the dead-letter stream; the admin API lists and replays them', async () => {
    const [u] = await seedUsers(db, hs, clientId, 1, 1, 'dl');
    hs.setFault({ kind: 'error', status: 500 }, /sync_devices/);
    await revoke(cw.url, clientId, u!.sessions[0]!.accessToken);
    await waitUntil(async () => (await r.xlen(`${PREFIX}events:dead`)) > 0, 10_000, 'a dead letter');
    hs.setFault({ kind: 'none' });
    const [entry] = (await r.xrange(`${PREFIX}events:dead`, '-', '+')) as [string, string[]][];
    const fields = Object.fromEntries(entry![1].reduce<string[][]>((acc, v, i) => (i % 2 ? (acc[acc.length - 1]!.push(v), acc) : [...acc, [v]]), []));
    expect(fields).toMatchObject({ u: u!.localpart, kind: 'devices.sync', attempts: '4' });
    expect(fields.error).toMatch(/500/);
    expect(hs.devices(u!.localpart)).toEqual([u!.sessions[0]!.deviceId]);

    const list = await fetch(`${cw.url}/api/admin/v1/events/dead-letters`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { data: { id: number; user: string; kind: string; attempts: number; last_error: string }[] };
    const dead = body.data.find((d) => d.user === u!.localpart)!;
    expect(dead).toMatchObject({ kind: 'devices.sync', attempts: 4 });

    const replay = await fetch(`${cw.url}/api/admin/v1/events/dead-letters/${dead.id}/replay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(replay.status).toBe(200);
    await waitUntil(() => hs.devices(u!.localpart).length === 0, 10_000, 'the replayed sign-out to arrive');
    await waitUntil(async () => (await r.xlen(`${PREFIX}events:dead`)) === 0, 5000, 'the dead-letter entry to be removed');
  });

  it('reports shards, status, health and metrics', async () => {
    // The homeserver call comes first, then the row is marked delivered.
    await waitUntil(async () => (await db.undelivered()) === 0, 5000, 'every row to be marked delivered');
    const status = (await (await fetch(`${cw.url}/api/admin/v1/events/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ driver: 'redis-streams', undelivered: 0, dead_letters: 0 });
    expect((status.shards as unknown[]).length).toBe(4);
    const ready = (await (await fetch(`${cw.url}/health/ready`)).json()) as { components: Record<string, { status: string; detail?: string }> };
    expect(ready.components.redis).toMatchObject({ status: 'up' });
    expect(ready.components.events!.detail).toMatch(/^redis-streams: 0 undelivered/);
    const metrics = await (await fetch(`${cw.url}/metrics`)).text();
    for (let n = 0; n < 4; n++) expect(metrics).toContain(`causeway_events_queue_depth{shard="${n}"} 0`);
  });

  it('a message pending under its own consumer but not tracked by it (read while it did not hold the shard) is claimed and settled', async () => {
    const line = cw.logs.find((l) => l.includes('event bus on Redis Streams started'));
    const consumer = (JSON.parse(line!) as { consumer: string }).consumer;
    // A message of an earlier test: its row is delivered, so once claimed it is acknowledged at once.
    let source: { stream: string; fields: string[] } | undefined;
    for (const stream of (await r.keys(`${PREFIX}events:[0-9]*`)).sort()) {
      const [entry] = (await r.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][];
      if (entry) source = { stream, fields: entry[1] };
      if (source) break;
    }
    expect(source).toBeDefined();
    // Put a copy in this consumer's pending list without it ever reading it: in one transaction the
    // group's cursor moves past the copy (the blocked read sees nothing new) and XCLAIM FORCE makes
    // the consumer its holder, as when a read's answer arrives after the shard changed hands.
    const [lastId] = ((await r.xrevrange(source!.stream, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]!;
    const copyId = `${Math.max(Date.now(), Number(lastId.split('-')[0]) + 1)}-0`;
    const result = await r
      .multi()
      .xadd(source!.stream, copyId, ...source!.fields)
      .xgroup('SETID', source!.stream, 'causeway', '$')
      .xclaim(source!.stream, 'causeway', consumer, 0, copyId, 'FORCE')
      .exec();
    expect(result!.every(([err]) => err === null)).toBe(true);
    const pendingCopy = async () => ((await r.xpending(source!.stream, 'causeway', '-', '+', 10, consumer)) as [string][]).some(([id]) => id === copyId);
    expect(await pendingCopy()).toBe(true);
    // claim_idle is 2 s and the consumer looks every second: it takes the copy back and acknowledges it.
    await waitUntil(async () => !(await pendingCopy()), 10_000, 'the untracked message to be claimed and acknowledged');
  });

  it('a graceful stop hands held messages back; the next process delivers them', async () => {
    const [u] = await seedUsers(db, hs, clientId, 1, 1, 'gs');
    await hs.goDown();
    await revoke(cw.url, clientId, u!.sessions[0]!.accessToken);
    const shard = (await r.keys(`${PREFIX}events:[0-9]*`)).sort();
    // Wait until the consumer holds the message (pending, unacknowledged) while the homeserver is down.
    await waitUntil(
      async () => {
        let pending = 0;
        for (const k of shard) pending += ((await r.xpending(k, 'causeway')) as [number])[0];
        return pending > 0;
      },
      5000,
      'the message to be held by the consumer',
    );
    expect(await cw.stop()).toBe(0);
    let pending = 0;
    for (const k of shard) pending += ((await r.xpending(k, 'causeway')) as [number])[0];
    expect(pending).toBe(0);
    expect(await r.zcard(`${PREFIX}events:consumers`)).toBe(0);
    expect(await r.exists(`${PREFIX}events:relay`)).toBe(0);

    await hs.comeUp();
    cw = await startCauseway({ database, dir: cw.dir, port: cw.port, config: config() });
    await waitUntil(() => hs.devices(u!.localpart).length === 0, 10_000, 'the handed-back sign-out to arrive');
    expect(hs.unexpectedErrors).toEqual([]);
  });
});
