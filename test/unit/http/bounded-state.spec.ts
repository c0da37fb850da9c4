import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import type { GatewayConfig } from '../../../src/config/config.schema.js';
import { FailedAuthenticationLimiter } from '../../../src/oauth2/introspect/failed-authentication-limiter.js';
import { IntrospectionCache, type CachedToken } from '../../../src/oauth2/introspect/introspection-cache.js';
import { LoginLock } from '../../../src/login/login-lock.js';
import type { KeyValueStore } from '../../../src/storage/kv-store.js';

/**
 * Issue 19: no in-process map on a request path grows with the number of distinct keys it has seen.
 * Each is fed 100,000 distinct keys (token hashes, client addresses, login ids) and must stay
 * within its bound. Replay caches (OIDC logout jti, CAS tickets, SAML assertion ids) and login
 * state live in the key-value store (database or Redis, with expiry), not in process memory; rate
 * limit counters live in Redis or in @fastify/rate-limit's LRU.
 */
const N = 100_000;
const hex = (i: number) => i.toString(16).padStart(64, '0');
const entry = (i: number): CachedToken => ({
  body: {
    active: true,
    scope: 'urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ',
    client_id: '01JCLIENT0000000000000000',
    username: `user${i}`,
    sub: `01JUSER${i}`,
    token_type: 'access_token',
    iat: 1,
    nbf: 1,
    jti: `01JTOKEN${i}`,
    device_id: 'ABCDEFGHIJ',
  },
  expiresAt: null,
  storedAt: Date.now(),
});
const cacheWith = (tokens: Partial<GatewayConfig['tokens']>) => new IntrospectionCache({ tokens: { introspection_cache_ttl: 300, ...tokens }, redis: undefined } as unknown as GatewayConfig, null);

describe('in-process state on request paths stays bounded', () => {
  it('the introspection cache holds at most max_entries answers', () => {
    const cache = cacheWith({ introspection_cache_max_entries: 5000, introspection_cache_max_bytes: 1 << 30 });
    for (let i = 0; i < N; i++) cache.set(hex(i), entry(i), cache.mark);
    expect(cache.stats.entries).toBe(5000);
    // The most recent stay; the least recently used went first.
    expect(cache.get(hex(N - 1), Date.now())).toBeDefined();
    expect(cache.get(hex(0), Date.now())).toBeUndefined();
  });

  it('the introspection cache holds at most max_bytes (estimated) of answers', () => {
    const maxBytes = 2 * 1024 * 1024;
    const cache = cacheWith({ introspection_cache_max_entries: N * 10, introspection_cache_max_bytes: maxBytes });
    for (let i = 0; i < N; i++) cache.set(hex(i), entry(i), cache.mark);
    const { entries, bytes } = cache.stats;
    expect(bytes).toBeLessThanOrEqual(maxBytes);
    expect(entries).toBeGreaterThan(100);
    expect(entries).toBeLessThan(N);
  });

  it('the failed-authentication limiter tracks at most its capacity of addresses', () => {
    const limiter = new FailedAuthenticationLimiter(5, 60_000, 10_000);
    for (let i = 0; i < N; i++) limiter.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const windows = (limiter as unknown as { windows: { size: number } }).windows;
    expect(windows.size).toBe(10_000);
  });

  it('the single-replica login lock forgets a login once its step is done', async () => {
    const lock = new LoginLock({} as KeyValueStore, false);
    const local = (lock as unknown as { local: Map<string, unknown> }).local;
    let peak = 0;
    for (let i = 0; i < N; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => lock.run(`login-${i + j}`, async () => (peak = Math.max(peak, local.size)))));
    }
    expect(peak).toBeGreaterThan(0);
    expect(local.size).toBe(0);
  });

  it("@fastify/rate-limit's in-process counters (no Redis) are an LRU of 5,000 keys", () => {
    const require = createRequire(import.meta.url);
    const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (a: boolean, b: boolean, cache?: number) => { incr(k: string, cb: () => void, w: number, m: number): void; lru: { size: number } };
    const store = new LocalStore(false, false);
    for (let i = 0; i < N; i++) store.incr(`ip-${i}`, () => undefined, 60_000, 10);
    expect(store.lru.size).toBeLessThanOrEqual(5000);
  });
});
