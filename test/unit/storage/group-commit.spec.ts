import { describe, expect, it } from '@jest/globals';
import { GroupCommitter } from '../../../src/storage/group-commit.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommitter', () => {
  it('sends what arrives in one tick as one batch, and answers each item with its own result', async () => {
    const batches: number[][] = [];
    const g = new GroupCommitter<number, number>(
      async (items) => {
        batches.push(items);
        return items.map((i) => i * 10);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    const out = await Promise.all([1, 2, 3].map((i) => g.submit(i)));
    expect(out).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('while batches are in flight, later items wait and go together; never more than maxInFlight batches', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const g = new GroupCommitter<number, number>(
      async (items) => {
        batches.push(items);
        most = Math.max(most, ++inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        return items;
      },
      { maxBatch: 3, maxInFlight: 2 },
    );
    const first = [1, 2, 3, 4].map((i) => g.submit(i));
    await tick();
    expect(batches).toEqual([[1, 2, 3], [4]]);
    const later = [5, 6, 7, 8].map((i) => g.submit(i));
    await tick();
    expect(batches).toHaveLength(2); // both slots busy
    release.shift()!();
    await Promise.all(first.slice(0, 3));
    await tick();
    expect(batches[2]).toEqual([5, 6, 7]);
    while (release.length || batches.length < 4) {
      release.shift()?.();
      await tick();
    }
    expect(await Promise.all([...first, ...later])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(batches[3]).toEqual([8]);
    expect(most).toBe(2);
  });

  it('when a batch fails, each item is tried alone: only the bad one fails', async () => {
    const calls: number[][] = [];
    const g = new GroupCommitter<number, string>(
      async (items) => {
        calls.push(items);
        if (items.includes(2)) throw new Error('bad item');
        return items.map(String);
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3].map((i) => g.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<string>).value).toBe('1');
    expect(calls).toEqual([[1, 2, 3], [1], [2], [3]]);
    // And it keeps working afterwards.
    expect(await g.submit(4)).toBe('4');
  });
});
