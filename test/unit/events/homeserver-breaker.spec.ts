import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HomeserverBreaker } from '../../../src/events/homeserver-breaker.js';

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

  it('with nobody waiting, whoever comes first after the back-off probes', () => {
    breaker.failed('a');
    breaker.finished(['a']);
    jest.advanceTimersByTime(100);
    expect(woken).toEqual(['a']);
    jest.advanceTimersByTime(1000); // a never came back (its events were delivered elsewhere)
    expect(breaker.admit(['z'])).toEqual({ admitted: ['z'], parked: [] });
  });
});
