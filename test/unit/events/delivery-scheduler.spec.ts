import { describe, expect, it } from '@jest/globals';
import { DeliveryScheduler } from '../../../src/events/delivery-scheduler.js';
import type { DeliveryOutcome } from '../../../src/events/event-delivery.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** A run function whose batches the test completes by hand. */
function controllable() {
  const calls: { users: string[]; finish: (o?: Record<string, DeliveryOutcome>) => void }[] = [];
  const run = (users: string[]) =>
    new Promise<Map<string, DeliveryOutcome>>((resolve) => {
      calls.push({ users, finish: (o = {}) => resolve(new Map(users.map((u) => [u, o[u] ?? { status: 'done' }]))) });
    });
  return { calls, run };
}

describe('DeliveryScheduler', () => {
  it('never runs one user twice at once; an offer during a run runs it again afterwards', async () => {
    const c = controllable();
    const s = new DeliveryScheduler({ batchSize: 10, concurrency: 4, run: c.run });
    s.offer('a');
    s.offer('a');
    expect(c.calls.map((x) => x.users)).toEqual([['a']]);
    s.offer('a');
    expect(c.calls).toHaveLength(1);
    c.calls[0]!.finish();
    await tick();
    expect(c.calls.map((x) => x.users)).toEqual([['a'], ['a']]);
    c.calls[1]!.finish();
    await tick();
    expect(c.calls).toHaveLength(2);
  });

  it('starts a lone offer at once, batches what queues up meanwhile, bounds parallel batches', async () => {
    const c = controllable();
    const s = new DeliveryScheduler({ batchSize: 2, concurrency: 2, run: c.run });
    for (const u of ['a', 'b', 'c', 'd', 'e']) s.offer(u);
    expect(c.calls.map((x) => x.users)).toEqual([['a'], ['b']]);
    expect(s.inFlight).toBe(2);
    c.calls[0]!.finish();
    await tick();
    expect(c.calls.map((x) => x.users)).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(s.inFlight).toBe(3);
    c.calls[1]!.finish();
    await tick();
    expect(c.calls.map((x) => x.users)).toEqual([['a'], ['b'], ['c', 'd'], ['e']]);
  });

  it('a user in back-off waits without holding others up, then runs at its time', async () => {
    const c = controllable();
    const s = new DeliveryScheduler({ batchSize: 10, concurrency: 1, run: c.run });
    s.offer('slow');
    c.calls[0]!.finish({ slow: { status: 'retry', retryAt: Date.now() + 80 } });
    await tick();
    expect(s.backingOff()).toBe(1);
    s.offer('slow');
    s.offer('other');
    expect(c.calls.map((x) => x.users)).toEqual([['slow'], ['other']]);
    c.calls[1]!.finish();
    await tick(120);
    expect(c.calls.map((x) => x.users)).toEqual([['slow'], ['other'], ['slow']]);
  });

  it('resumeAll ends every back-off at once (the homeserver recovered)', async () => {
    const c = controllable();
    const s = new DeliveryScheduler({ batchSize: 10, concurrency: 2, run: c.run });
    s.offer('x');
    s.offer('y');
    const later = { status: 'retry', retryAt: Date.now() + 60_000 } as const;
    c.calls[0]!.finish({ x: later });
    c.calls[1]!.finish({ y: later });
    await tick();
    expect(s.backingOff()).toBe(2);
    s.resumeAll();
    expect(s.backingOff()).toBe(0);
    expect(c.calls.map((x) => x.users)).toEqual([['x'], ['y'], ['x'], ['y']]);
    c.calls[2]!.finish();
    c.calls[3]!.finish();
    await tick();
    await s.stop();
  });

  it('a run still in flight when resumeAll comes does not wait out the back-off it reports afterwards', async () => {
    // The race seen in the drain benchmark: users parked by the breaker were being run (they will
    // answer "retry in backoff_max_ms") when the probe succeeded and resumeAll fired; their stale
    // retry must not hold them for a minute.
    const c = controllable();
    const s = new DeliveryScheduler({ batchSize: 10, concurrency: 2, run: c.run });
    s.offer('parked');
    s.offer('probe');
    s.resumeAll(); // the probe's success, while 'parked' is still being run
    c.calls[0]!.finish({ parked: { status: 'retry', retryAt: Date.now() + 60_000 } });
    c.calls[1]!.finish();
    await tick();
    expect(s.backingOff()).toBe(0);
    expect(c.calls.map((x) => x.users)).toEqual([['parked'], ['probe'], ['parked']]);
    // A retry reported by a run that started after the recovery is honoured as usual.
    c.calls[2]!.finish({ parked: { status: 'retry', retryAt: Date.now() + 60_000 } });
    await tick();
    expect(s.backingOff()).toBe(1);
    await s.stop();
  });

  it('a batch that throws backs its users off instead of losing them', async () => {
    let n = 0;
    const s = new DeliveryScheduler({
      batchSize: 10,
      concurrency: 1,
      errorBackoff: () => 30,
      run: async (users) => {
        if (n++ === 0) throw new Error('database went away');
        return new Map(users.map((u) => [u, { status: 'done' } as DeliveryOutcome]));
      },
    });
    s.offer('p');
    await tick();
    expect(s.backingOff()).toBe(1);
    await tick(60);
    expect(n).toBe(2);
    expect(s.isBusy('p')).toBe(false);
  });

  it('stop waits for running batches and starts nothing more', async () => {
    const c = controllable();
    const s = new DeliveryScheduler({ batchSize: 10, concurrency: 1, run: c.run });
    s.offer('a');
    const stopped = s.stop(1000);
    s.offer('b');
    c.calls[0]!.finish();
    await stopped;
    expect(c.calls).toHaveLength(1);
  });
});
