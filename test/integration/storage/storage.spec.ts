import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { Database } from '../../../src/storage/database.service.js';
import { DbKeyValueStore } from '../../../src/storage/kv-store.js';
import { UserEntity } from '../../../src/storage/entities/index.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../../support/databases.js';

describe.each(TEST_DBS)('storage on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-storage-'));
  let tdb: TestDatabase;
  let ds: DataSource;
  let db: Database;

  beforeAll(async () => {
    tdb = await freshDatabase(kind, dir);
    ds = await openDataSource({ url: tdb.url, schema: tdb.schema });
    await runMigrations(ds);
    db = new Database(ds, tdb.url);
  });
  afterAll(async () => {
    await ds?.destroy();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrations build exactly the schema the entities describe', async () => {
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('keeps the SQL text of a statement the same whatever its values (so prepared statements are reused)', async () => {
    const sql = (at: number) => ds.createQueryBuilder().update(UserEntity).set({ locked_at: at }).where({ localpart: 'x' }).getQueryAndParameters()[0];
    expect(sql(1795628255618)).toBe(sql(1795628255619));
    const uid = await db.transaction(async (em) => {
      await em.insert(UserEntity, { id: '01JBINDTEST00000000000000A', localpart: 'bound', created_at: 1795628255618 });
      return '01JBINDTEST00000000000000A';
    });
    const back = await ds.manager.findOneByOrFail(UserEntity, { id: uid, created_at: 1795628255618 });
    expect(back.created_at).toBe(1795628255618);
    await db.transaction((em) => em.delete(UserEntity, { id: uid }));
  });

  it('running migrations again is a no-op', async () => {
    expect(await runMigrations(ds)).toEqual([]);
  });

  it('serialises concurrent transactions and rolls back failed ones', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        db.transaction(async (em) => {
          await em.insert(UserEntity, { id: `u${String(i).padStart(25, '0')}`, localpart: `user${i}`, created_at: Date.now() });
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          if (i % 4 === 0) throw new Error('abort');
          await em.update(UserEntity, { localpart: `user${i}` }, { display_name: 'ok' });
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.message === 'abort')).toBe(true);
    const users = await db.manager.find(UserEntity);
    expect(users).toHaveLength(30);
    expect(users.every((u) => u.display_name === 'ok')).toBe(true);
  });

  describe('key-value store (no Redis)', () => {
    it('takes a value once', async () => {
      const kv = new DbKeyValueStore(db);
      await kv.set('state:a', 'login-1', 60);
      expect(await kv.get('state:a')).toBe('login-1');
      const takes = await Promise.all([kv.take('state:a'), kv.take('state:a'), kv.take('state:a')]);
      expect(takes.filter((t) => t === 'login-1')).toHaveLength(1);
      expect(await kv.get('state:a')).toBeUndefined();
    });

    it('lets exactly one of concurrent setIfAbsent calls win (replay cache)', async () => {
      const kv = new DbKeyValueStore(db);
      const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => kv.setIfAbsent('jti:x', `v${i}`, 60)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it('treats expired entries as absent', async () => {
      let now = 1_000_000;
      const kv = new DbKeyValueStore(db, () => now);
      await kv.set('e', 'v', 10);
      expect(await kv.setIfAbsent('e2', 'v', 10)).toBe(true);
      now += 11_000;
      expect(await kv.get('e')).toBeUndefined();
      expect(await kv.take('e')).toBeUndefined();
      expect(await kv.setIfAbsent('e2', 'again', 10)).toBe(true);
    });

    it('deletes a key only for the value its owner set (an owner releasing its lock)', async () => {
      const kv = new DbKeyValueStore(db);
      await kv.set('lock:l', 'owner-b', 60);
      await kv.deleteIfEquals('lock:l', 'owner-a');
      expect(await kv.get('lock:l')).toBe('owner-b');
      await kv.deleteIfEquals('lock:l', 'owner-b');
      expect(await kv.get('lock:l')).toBeUndefined();
    });
  });
});
