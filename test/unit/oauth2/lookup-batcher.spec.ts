import { describe, expect, it } from '@jest/globals';
import { LookupBatcher } from '../../../src/oauth2/introspect/lookup-batcher.js';

/** A fake table whose reads take a snapshot when the statement starts, as PostgreSQL's do. */
class FakeTable {
  revoked = new Set<string>();
  statements: string[][] = [];
  private releases: Array<() => void> = [];
  /** When true, statements wait for release() before answering (they are "at the database"). */
  hold = false;

  fetch = (keys: string[]): Promise<Map<string, { revoked: boolean }>> => {
    this.statements.push(keys);
    const snapshot = new Set(this.revoked);
    const answer = () => new Map(keys.map((k) => [k, { revoked: snapshot.has(k) }]));
    if (!this.hold) return Promise.resolve(answer());
    return new Promise((resolve) => this.releases.push(() => resolve(answer())));
  };

  release() {
    const r = this.releases;
    this.releases = [];
    for (const f of r) f();
  }
}

const turn = () => new Promise((r) => setImmediate(r));

describe('LookupBatcher', () => {
  it('answers the lookups of one event-loop turn with one statement, each key once', async () => {
    const t = new FakeTable();
    const b = new LookupBatcher(t.fetch);
    const answers = await Promise.all(['a', 'b', 'a', 'c'].map((k) => b.get(k)));
    expect(t.statements).toEqual([['a', 'b', 'c']]);
    expect(answers).toEqual([{ revoked: false }, { revoked: false }, { revoked: false }, { revoked: false }]);
  });

  it('a key the statement did not find answers undefined', async () => {
    const b = new LookupBatcher(async (keys: string[]) => new Map(keys.filter((k) => k !== 'gone').map((k) => [k, k])));
    expect(await Promise.all([b.get('here'), b.get('gone')])).toEqual(['here', undefined]);
  });

  it('a revocation committed while a batch is at the database is seen by every lookup that starts after it, even for the same key', async () => {
    const t = new FakeTable();
    t.hold = true;
    const b = new LookupBatcher(t.fetch);
    const early = b.get('tok'); // its statement's snapshot predates the revocation
    await turn();
    expect(t.statements).toHaveLength(1);
    t.revoked.add('tok'); // the revocation commits while the first statement is in flight
    const late = b.get('tok'); // starts after the commit: must not share the in-flight answer
    await turn();
    expect(t.statements).toHaveLength(2);
    t.release();
    expect(await early).toEqual({ revoked: false }); // allowed: it started before the commit
    expect(await late).toEqual({ revoked: true });
  });

  it('never has more than maxInFlight statements at the database; the rest gather into the next batch', async () => {
    const t = new FakeTable();
    t.hold = true;
    const b = new LookupBatcher(t.fetch, 1);
    const first = b.get('a');
    await turn();
    const waiting = [b.get('b'), b.get('c')];
    await turn();
    const more = b.get('d');
    await turn();
    expect(t.statements).toEqual([['a']]);
    expect(b.busy).toBe(2); // one at the database, one gathering
    t.release();
    await first;
    await turn();
    expect(t.statements).toEqual([['a'], ['b', 'c', 'd']]);
    t.release();
    expect(await Promise.all([...waiting, more])).toHaveLength(3);
    expect(b.busy).toBe(0);
  });

  it('splits a batch larger than maxBatch', async () => {
    const t = new FakeTable();
    const b = new LookupBatcher(t.fetch, 4, 3);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => b.get(k)));
    expect(t.statements).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('a failed statement fails its own lookups only; the next batch runs', async () => {
    let calls = 0;
    const b = new LookupBatcher(async (keys: string[]) => {
      if (calls++ === 0) throw new Error('connection lost');
      return new Map(keys.map((k) => [k, k]));
    });
    const failed = Promise.all([b.get('a'), b.get('b')]);
    await expect(failed).rejects.toThrow('connection lost');
    expect(await b.get('c')).toBe('c');
  });
});
