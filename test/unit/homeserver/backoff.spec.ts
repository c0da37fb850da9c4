import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as backoff from '../../../src/homeserver/backoff.js';
import { backoffDelay, SHARD_LEASE_MIN_MS, SHARD_LEASE_MS, shardLeaseMs } from '../../../src/homeserver/backoff.js';
import { shardOf } from '../../../src/events/redis/stream-keys.js';
import { compareIds } from '../../../src/events/redis/relay.js';

describe('backoffDelay', () => {
  it('doubles from the initial delay, with jitter in the upper half', () => {
    expect(backoffDelay(1, 500, 60_000, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, 60_000, () => 1)).toBe(500);
    expect(backoffDelay(2, 500, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(5, 500, 60_000, () => 0.5)).toBe(6000);
  });
  it('never exceeds the cap, and stays above half of it', () => {
    for (let attempt = 1; attempt < 100; attempt++) {
      const d = backoffDelay(attempt, 500, 60_000);
      expect(d).toBeLessThanOrEqual(60_000);
      expect(d).toBeGreaterThanOrEqual(Math.min(60_000, 500 * 2 ** (attempt - 1)) / 2);
    }
  });
});

describe('backoff.ts, the one place of the back-off constants', () => {
  const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
  const file = readFileSync(join(SRC, 'homeserver/backoff.ts'), 'utf8');
  const sources = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
  const allCode = sources(SRC)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');

  it('names the jitter backoffDelay implements (equal jitter: half fixed, half random), and no other', () => {
    const named = new Set([...file.matchAll(/\b(full|equal|decorrelated) jitter\b/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...named]).toEqual(['equal']);
    // Equal jitter: never below half of the exponential delay, up to all of it.
    expect(backoffDelay(3, 500, 60_000, () => 0)).toBe(1000);
    expect(backoffDelay(3, 500, 60_000, () => 0.999999)).toBe(2000);
  });

  it('every value it exports is used by the code (no second, bare copy of a constant)', () => {
    // Used = named somewhere besides its own declaration (in this file or another).
    const unused = Object.keys(backoff).filter((name) => (allCode.match(new RegExp(`\\b${name}\\b`, 'g')) ?? []).length < 2);
    expect(unused).toEqual([]);
  });

  it('derives the shard lease from events.claim_idle within its bounds', () => {
    expect(shardLeaseMs(30_000)).toBe(SHARD_LEASE_MS);
    expect(shardLeaseMs(10_000)).toBe(10_000);
    expect(shardLeaseMs(500)).toBe(SHARD_LEASE_MIN_MS);
  });
});

describe('shardOf', () => {
  it('is stable and spreads users over the shards', () => {
    expect(shardOf('alice', 16)).toBe(shardOf('alice', 16));
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`user${i}`, 16)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
  it('handles non-ASCII keys', () => {
    expect(shardOf('dé', 8)).toBeGreaterThanOrEqual(0);
    expect(shardOf('dé', 8)).toBeLessThan(8);
  });
});

describe('compareIds (stream IDs)', () => {
  it('orders by time then sequence, numerically', () => {
    expect(compareIds('1-0', '1-0')).toBe(0);
    expect(compareIds('9-0', '10-0')).toBe(-1);
    expect(compareIds('10-2', '10-10')).toBe(-1);
    expect(compareIds('1700000000000-5', '1700000000000-4')).toBe(1);
  });
});
