import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HomeserverBreaker, PROBE_MAX_INTERVAL_MS } from '../../../src/events/homeserver-breaker.js';

describe('HomeserverBreaker', () => {
  let woken: string[];
  let breaker: HomeserverBreaker;
  beforeEach(() => {
    jest.useFakeTimers();
    woken = [];
    breaker = new HomeserverBreaker({ initialMs: 100, maxMs: 1000, wake: (u) => woken.push(u) });
  });
  afterEach(() => {
    breaker.stop();
    jest.useRealTimers();
  });

  it('closed: every user may call', () => {
    expect(breaker.admit(['a', 'b', 'c'])).toEqual({ admitted: ['a', 'b', 'c'], parked: [] });
    expect(breaker.isOpen).toBe(false);
    expect(breaker.answered()).toBe(false);
  });

  it('opens on a transient failure: nobody calls until the back-off ends, then one woken user probes alone', () => {
    breaker.failed('a');
    expect(breaker.isOpen).toBe(true);
    expect(breaker.admit(['b', 'c'])).toEqual({ admitted: [], parked: ['b', 'c'] });
    expect(woken).toEqual([]);
    jest.advanceTimersByTime(100); // the first back-off is 50–100 ms
    expect(woken).toEqual(['a']); // the users that wait take turns, in the order they came
    expect(breaker.admit(['b', 'c'])).toEqual({ admitted: [], parked: ['b', 'c'] }); // not theirs
    expect(breaker.admit(['c', 'a'])).toEqual({ admitted: ['a'], parked: ['c'] });
    expect(breaker.admit(['b'])).toEqual({ admitted: [], parked: ['b'] }); // one probe at a time
  });

  it('a failed probe backs off longer and hands the next probe to another user', () => {
    breaker.failed('a');
    breaker.admit(['b', 'c']);
    jest.advanceTimersByTime(100);
    expect(breaker.admit(['a'])).toEqual({ admitted: ['a'], parked: [] });
    breaker.failed('a'); // second failure: 100–200 ms
    jest.advanceTimersByTime(99);
    expect(woken).toEqual(['a']);
    jest.advanceTimersByTime(101);
    expect(woken).toEqual(['a', 'b']);
    expect(breaker.admit(['b'])).toEqual({ admitted: ['b'], parked: [] });
    breaker.failed('b'); // third: 200–400 ms
    jest.advanceTimersByTime(400);
    expect(woken).toEqual(['a', 'b', 'c']);
  });

  it('the first answer closes it (once) and lets everyone call again', () => {
    breaker.failed('a');
    breaker.admit(['b']);
    jest.advanceTimersByTime(100);
    breaker.admit(['a']);
    expect(breaker.answered()).toBe(true);
    expect(breaker.answered()).toBe(false);
    expect(breaker.admit(['a', 'b'])).toEqual({ admitted: ['a', 'b'], parked: [] });
    jest.advanceTimersByTime(10_000);
    expect(woken).toEqual(['a']); // no probe timer left behind
  });

  it('a probe that made no call (nothing pending) passes the turn on at once', () => {
    breaker.failed('a');
    breaker.admit(['b']);
    jest.advanceTimersByTime(100);
    expect(breaker.admit(['a'])).toEqual({ admitted: ['a'], parked: [] });
    breaker.finished(['a']);
    jest.advanceTimersByTime(0);
    expect(woken).toEqual(['a', 'b']);
    expect(breaker.admit(['b'])).toEqual({ admitted: ['b'], parked: [] });
  });

  it('a woken user that does not come within a second loses its turn to the next', () => {
    breaker.failed('a');
    breaker.admit(['b']);
    jest.advanceTimersByTime(100);
    expect(woken).toEqual(['a']);
    jest.advanceTimersByTime(1000);
    expect(woken).toEqual(['a', 'b']);
    expect(breaker.admit(['b'])).toEqual({ admitted: ['b'], parked: [] });
  });

  it('probes at least every PROBE_MAX_INTERVAL_MS (1 s), but counts attempts only at the pace of an ordinary back-off', () => {
    const slow = new HomeserverBreaker({ initialMs: 500, maxMs: 60_000, wake: (u) => woken.push(u) });
    expect(slow.failed('a')).toBe(true); // the call that opened it is an ordinary attempt
    let probes = 0;
    let counted = 1;
    let last = Date.now();
    let longestGap = 0;
    const end = Date.now() + 10 * 60_000;
    while (Date.now() < end) {
      jest.advanceTimersByTime(100);
      if (slow.admit(['a']).admitted.length === 0) continue;
      longestGap = Math.max(longestGap, Date.now() - last);
      last = Date.now();
      probes++;
      if (slow.failed('a')) counted++;
    }
    slow.stop();
    expect(longestGap).toBeLessThanOrEqual(PROBE_MAX_INTERVAL_MS + 100);
    expect(probes).toBeGreaterThanOrEqual((10 * 60_000) / (PROBE_MAX_INTERVAL_MS + 100)); // ten minutes, a probe every ≤ 1 s
    // An ordinary per-user back-off (0.5 s doubling to 60 s, half of it jitter) retries 16–27 times in
    // ten minutes; probing every second does not spend attempts faster than that.
    expect(counted).toBeGreaterThanOrEqual(10);
    expect(counted).toBeLessThanOrEqual(28);
  });

  it('with nobody waiting, whoever comes first after the back-off probes', () => {
    breaker.failed('a');
    breaker.finished(['a']);
    jest.advanceTimersByTime(100);
    expect(woken).toEqual(['a']);
    jest.advanceTimersByTime(1000); // a never came back (its events were delivered elsewhere)
    expect(breaker.admit(['z'])).toEqual({ admitted: ['z'], parked: [] });
  });
});
