import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../../../src/config/config.schema.js';
import { DbOutbox } from '../../../src/events/outbox.js';
import { IntrospectionCache, type CachedToken } from '../../../src/oauth2/introspect/introspection-cache.js';
import { SessionEnder } from '../../../src/oauth2/sessions/session-ender.js';
import { openDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { Database } from '../../../src/storage/database.service.js';
import { AccessTokenEntity, OAuth2SessionEntity, UserEntity } from '../../../src/storage/entities/index.js';
import { SessionEndRepository } from '../../../src/storage/repositories/session-end/session-end.repository.js';
import { ulid } from '../../../src/storage/ulid.js';

/**
 * Ending a session evicts exactly its tokens from the introspection cache, once the transaction has
 * committed: the answers cached for everyone else's tokens stay (an admin or upstream sign-out of
 * one account must not turn every replica's next introspections into database reads).
 */
describe('SessionEnder and the introspection cache (SQLite)', () => {
  let dataSource: DataSource;
  let db: Database;
  let cache: IntrospectionCache;
  let ender: SessionEnder;

  beforeAll(async () => {
    dataSource = await openDataSource({ url: 'sqlite::memory:' });
    await runMigrations(dataSource);
    db = new Database(dataSource, 'sqlite::memory:');
    cache = new IntrospectionCache({ tokens: { introspection_cache_ttl: 300 }, redis: undefined } as unknown as GatewayConfig, null);
    ender = new SessionEnder(db, new SessionEndRepository(db), new DbOutbox(), cache);
  });
  afterAll(() => dataSource?.destroy());

  /** A user with one live OAuth session and access token, its answer cached. */
  async function cachedSession(localpart: string): Promise<{ sessionId: string; hash: string }> {
    const now = Date.now();
    const userId = ulid();
    const sessionId = ulid();
    const hash = createHash('sha256').update(randomBytes(16)).digest('hex');
    await db.transaction(async (em) => {
      await em.insert(UserEntity, { id: userId, localpart, created_at: now });
      await em.insert(OAuth2SessionEntity, { id: sessionId, user_id: userId, client_id: 'c', device_id: `D${localpart}`, scope: 'urn:matrix:client:api:*', grant_type: 'authorization_code', created_at: now });
      await em.insert(AccessTokenEntity, { id: ulid(), token_hash: hash, session_id: sessionId, created_at: now, expires_at: now + 300_000 });
    });
    const answer: CachedToken = { body: { active: true, username: localpart }, expiresAt: now + 300_000, storedAt: now };
    cache.set(hash, answer, cache.mark);
    expect(cache.get(hash, Date.now())).toBeDefined();
    return { sessionId, hash };
  }

  it("evicts the ended session's tokens and keeps every other cached answer", async () => {
    const alice = await cachedSession('alice');
    const bob = await cachedSession('bob');

    const ended = await db.transaction((em) => ender.end(em, [alice.sessionId], 'admin', 'admin-token'));
    ender.committed();

    expect(ended).toBe(1);
    expect(cache.get(alice.hash, Date.now())).toBeUndefined();
    expect(cache.get(bob.hash, Date.now())).toBeDefined();
  });

  it('evicts nothing while the transaction is still open (a lookup then would re-cache a live answer)', async () => {
    const carol = await cachedSession('carol');
    await db.transaction(async (em) => {
      await ender.end(em, [carol.sessionId], 'admin');
      expect(cache.get(carol.hash, Date.now())).toBeDefined();
    });
    expect(cache.get(carol.hash, Date.now())).toBeUndefined();
  });

  it('evicts nothing when the transaction rolls back', async () => {
    const dave = await cachedSession('dave');
    await expect(
      db.transaction(async (em) => {
        await ender.end(em, [dave.sessionId], 'admin');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(cache.get(dave.hash, Date.now())).toBeDefined();
  });
});
