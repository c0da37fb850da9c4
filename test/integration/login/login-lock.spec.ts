import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LoginLock } from '../../../src/login/login-lock.js';
import { RedisKeyValueStore } from '../../../src/storage/kv-store.js';
import { ulid } from '../../../src/storage/ulid.js';

/**
 * The per-login lock across replicas (Redis). A request whose step outlived the lock's TTL must
 * not, when it finally ends, delete the lock that a later request of the same login now holds:
 * else a third request would run beside the second one.
 */
describe('the per-login Redis lock', () => {
  const prefix = `test:login-lock:${randomBytes(4).toString('hex')}:`;
  let redis: Redis;
  let lock: LoginLock;

  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false });
    lock = new LoginLock(new RedisKeyValueStore(redis, prefix), true, { ttlSeconds: 60, waitMs: 2_000, pollMs: 10 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  };
  const lockKey = (loginId: string) => `${prefix}login-lock:${loginId}`;

  it('a holder whose lock expired does not release the lock of the request that took over', async () => {
    const loginId = ulid();
    const slow = gate();
    const second = gate();
    const slowRun = lock.run(loginId, () => slow.opened);
    await waitFor(async () => (await redis.exists(lockKey(loginId))) === 1);

    // The slow step outlives the TTL: its key expires and a later request of the login takes the lock.
    await redis.del(lockKey(loginId));
    let secondRunning = false;
    const secondRun = lock.run(loginId, async () => {
      secondRunning = true;
      await second.opened;
    });
    await waitFor(async () => secondRunning);

    // The slow one ends now: the second request's lock must survive it.
    slow.open();
    await slowRun;
    expect(await redis.exists(lockKey(loginId))).toBe(1);

    // So a third request still waits for the second one.
    let thirdRan = false;
    const thirdRun = lock.run(loginId, async () => {
      thirdRan = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(thirdRan).toBe(false);
    second.open();
    await secondRun;
    await thirdRun;
    expect(thirdRan).toBe(true);
    expect(await redis.exists(lockKey(loginId))).toBe(0);
  });

  it('releases its own lock when the work fails', async () => {
    const loginId = ulid();
    await expect(lock.run(loginId, async () => Promise.reject(new Error('step failed')))).rejects.toThrow('step failed');
    expect(await redis.exists(lockKey(loginId))).toBe(0);
  });

  it('answers "please wait" (409) when the lock stays held past the wait', async () => {
    const loginId = ulid();
    const held = gate();
    const holder = lock.run(loginId, () => held.opened);
    await waitFor(async () => (await redis.exists(lockKey(loginId))) === 1);
    const quick = new LoginLock(new RedisKeyValueStore(redis, prefix), true, { ttlSeconds: 60, waitMs: 100, pollMs: 10 });
    await expect(quick.run(loginId, async () => undefined)).rejects.toMatchObject({ status: 409 });
    held.open();
    await holder;
  });
});

/** Polls a condition (bounded: 2 s). */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
