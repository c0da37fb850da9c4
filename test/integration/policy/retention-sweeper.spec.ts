import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { waitUntil } from '../../support/causeway-db.js';
import { freshDatabase, TEST_DBS } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { openDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { Database } from '../../../src/storage/database.service.js';
import { DbLease } from '../../../src/storage/leases.js';
import { sql } from '../compat/compat-flow.js';

/**
 * The retention sweeper's guarantees: one sweeper at a time (a Redis lease between replicas, a
 * database lease without Redis, the CLI included), `causeway manage cleanup --dry-run` changes
 * nothing, and `causeway_retention_deleted_total{table}` counts what went.
 */

const REDIS_URL = process.env.CAUSEWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Expired keyed values (login states the browser abandoned): what the sweeps have to chew through. */
const garbage = (cw: CausewayProcess, n: number, prefix: string) => {
  const rows = Array.from({ length: n }, (_, i) => `('${prefix}-${i}', 'x', 1)`).join(', ');
  return sql(cw, `INSERT INTO kv_entries (key, value, expires_at) VALUES ${rows}`);
};

interface LogLine {
  msg: string;
  time: string;
  at?: string;
  owner?: string;
  started?: string;
}

describe('two replicas never sweep at once (PostgreSQL + Redis lease)', () => {
  let hs: HomeserverStandin;
  const replicas: CausewayProcess[] = [];

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    const db = await freshDatabase('postgres', '');
    const shared = {
      replicas: 2,
      redis: { url: REDIS_URL, key_prefix: `sweep-${randomBytes(4).toString('hex')}:` },
      matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      // Every second, ten rows per statement: each sweep takes a while, so overlaps would show.
      retention: { interval: 1, batch_size: 10 },
    };
    replicas.push(await startCauseway({ database: db, config: shared }));
    replicas.push(await startCauseway({ database: db, config: shared }));
  }, 120_000);

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await replicas[0]?.database.drop();
    await hs?.stop();
  });

  it('each sweep runs alone, whichever replica holds the lease', async () => {
    const deadline = Date.now() + 8_000;
    for (let round = 0; Date.now() < deadline; round++) {
      await garbage(replicas[0]!, 400, `round${round}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitUntil(async () => Number((await sql<{ n: number }>(replicas[0]!, 'SELECT count(*) AS n FROM kv_entries'))[0]!.n) === 0, 20_000, 'the garbage swept');
    const intervals = replicas.flatMap((r, i) => {
      const lines = r.logs.filter((l) => l.includes('"maintenance sweep')).map((l) => JSON.parse(l) as LogLine);
      const finished = lines.filter((l) => l.msg === 'maintenance sweep finished');
      return finished.map((f) => ({ replica: i, from: Date.parse(f.started!), to: Date.parse(f.time) }));
    });
    intervals.sort((a, b) => a.from - b.from);
    expect(intervals.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < intervals.length; i++) {
      // The next sweep starts after the previous one finished (whichever replica ran either).
      expect(intervals[i]!.from).toBeGreaterThanOrEqual(intervals[i - 1]!.to);
    }
    const byReplica = new Set(intervals.map((s) => s.replica));
    process.stdout.write(`\n${intervals.length} sweeps by replica(s) ${[...byReplica].join(', ')}, none overlapping\n`);
    // The metric counts the deleted rows in whichever replica deleted them.
    const deleted = await Promise.all(
      replicas.map(async (r) => {
        const text = await (await fetch(`${r.url}/metrics`)).text();
        return Number(/causeway_retention_deleted_total\{table="kv_entries"\} (\d+)/.exec(text)?.[1] ?? 0);
      }),
    );
    expect(deleted.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(400);
  });
});

describe.each(TEST_DBS)('the database lease and `manage cleanup` on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let database: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    // No background sweep: the test decides when.
    cw = await startCauseway({ db, config: { matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET }, retention: { enabled: false } } });
    const ds = await openDataSource({ url: cw.database.url, schema: cw.database.schema });
    await runMigrations(ds);
    database = new Database(ds, cw.database.url);
    close = () => ds.destroy();
  }, 120_000);

  afterAll(async () => {
    await close?.();
    await cw?.dispose();
    await hs?.stop();
  });

  const cli = (...args: string[]) => runCli(['manage', 'cleanup', '--config', join(cw.dir, `gateway-${cw.port}.yaml`), ...args], { cwd: cw.dir });
  const kvCount = async () => Number((await sql<{ n: number }>(cw, 'SELECT count(*) AS n FROM kv_entries'))[0]!.n);

  it('a lease has one holder; it can be renewed and released only by it, and is taken over once expired', async () => {
    const a = new DbLease(database, `test-${db}`, 'owner-a', 300);
    const b = new DbLease(database, `test-${db}`, 'owner-b', 300);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await b.renew()).toBe(false);
    await b.release();
    expect(await a.holder()).toBe('owner-a');
    expect(await a.renew()).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    // Expired: b takes it; a can no longer renew it.
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    await b.release();
    expect(await a.holder()).toBeUndefined();
  });

  it('--dry-run prints what would go and changes nothing; the real run deletes it', async () => {
    await garbage(cw, 250, `dry-${db}`);
    const before = await kvCount();
    const dry = await cli('--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    expect(dry.stdout).toMatch(/kv_entries\s+250/);
    expect(await kvCount()).toBe(before);
    const json = JSON.parse((await cli('--dry-run', '--json')).stdout) as { dryRun: boolean; deleted: Record<string, number> };
    expect(json).toMatchObject({ dryRun: true, deleted: { kv_entries: 250 } });

    const real = await cli('--json');
    expect(real.code).toBe(0);
    const report = JSON.parse(real.stdout) as { dryRun: boolean; deleted: Record<string, number>; batches: number };
    expect(report).toMatchObject({ dryRun: false, deleted: { kv_entries: 250 } });
    expect(await kvCount()).toBe(before - 250);
  });

  it('refuses to run beside another sweeper (the lease is held)', async () => {
    const server = new DbLease(database, 'maintenance', 'server:elsewhere', 60_000);
    expect(await server.acquire()).toBe(true);
    try {
      const res = await cli();
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('another sweep is running (lease held by server:elsewhere)');
    } finally {
      await server.release();
    }
    expect((await cli()).code).toBe(0);
  });
});
