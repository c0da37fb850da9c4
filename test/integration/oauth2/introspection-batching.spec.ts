import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToken, sha256Hex } from '../../../src/crypto/token-format.js';
import { TokenLookup } from '../../../src/oauth2/introspect/token-lookup.js';
import { AccessTokenEntity } from '../../../src/storage/entities/index.js';
import { ulid } from '../../../src/storage/ulid.js';
import { CausewayDb } from '../../support/causeway-db.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../../support/databases.js';

/**
 * The introspection lookup on a real database (token-lookup.ts; on PostgreSQL lookups of one
 * event-loop turn share one statement): lookups run continuously against a token while it is
 * revoked through another connection, and every lookup that started after the revocation committed
 * must see it. Lookups that started before may still see the token live (they read an older
 * snapshot), which is what RFC 7662 allows.
 */
describe.each(TEST_DBS)('introspection lookups racing revocations (%s)', (kind) => {
  let dir: string;
  let db: TestDatabase;
  let cdb: CausewayDb;
  let lookup: TokenLookup;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'causeway-batching-'));
    db = await freshDatabase(kind, dir);
    cdb = await CausewayDb.open(db, { migrate: true });
    lookup = TokenLookup.for(kind, cdb.ds);
  });
  afterAll(async () => {
    await lookup?.close();
    await cdb?.ds.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function liveToken(n: number): Promise<string> {
    const user = await cdb.createUser(`race${n}`);
    const session = await cdb.createSession(user, `DEV${n}`);
    const token = generateToken('access');
    await cdb.ds.manager.insert(AccessTokenEntity, { id: ulid(), token_hash: sha256Hex(token), session_id: session, created_at: Date.now(), expires_at: Date.now() + 3600_000, revoked_at: null, first_used_at: null });
    return sha256Hex(token);
  }

  it('answers many concurrent lookups of different tokens, each with its own row', async () => {
    const hashes = await Promise.all(Array.from({ length: 40 }, (_, i) => liveToken(1000 + i)));
    const rows = await Promise.all([...hashes, ...hashes].map((h) => lookup.access(h)));
    const ids = new Set(rows.map((r) => r?.id));
    expect(ids.size).toBe(40);
    expect(rows.every((r) => r && r.revoked_at === null && r.device_id?.startsWith('DEV1'))).toBe(true);
    expect(await lookup.access('0'.repeat(64))).toBeUndefined();
  });

  it('no lookup that starts after a revocation committed answers the token live', async () => {
    let violations = 0;
    let afterCommit = 0;
    for (let round = 0; round < 15; round++) {
      const hash = await liveToken(round);
      let committed = false;
      let stop = false;
      // Eight loops keep lookups in flight without pause, so revocations land mid-batch.
      const loops = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const startedAfterCommit = committed;
          const row = await lookup.access(hash);
          if (startedAfterCommit) {
            afterCommit++;
            if (!row || row.revoked_at === null) violations++;
          }
          // SQLite answers synchronously: yield so that timers (and the revocation) get their turn.
          await new Promise((r) => setImmediate(r));
        }
      });
      await new Promise((r) => setTimeout(r, 5 + (round % 5)));
      await cdb.ds.manager.update(AccessTokenEntity, { token_hash: hash }, { revoked_at: Date.now() });
      committed = true;
      await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await Promise.all(loops);
    }
    expect(afterCommit).toBeGreaterThan(0);
    expect(violations).toBe(0);
  });
});
