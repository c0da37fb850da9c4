/**
 * Test-only crash points. With `CAUSEWAY_FAULT=<point>[:<n>]` in the environment, the process kills
 * itself with SIGKILL the n-th time (default: first) it reaches that point, so fault tests can prove
 * nothing is lost across a crash at the worst moment. Never set in production: the server logs a
 * warning at start-up when it is.
 *
 * - `after-outbox-write`: rows are committed in the outbox but not yet published to Redis
 *   (or, embedded, not yet delivered).
 * - `after-publish`: rows are in Redis but not yet marked published.
 * - `after-homeserver-call`: the homeserver confirmed, but the row is not marked delivered nor the message acknowledged.
 * - `import-mid-page`: `causeway import synapse` wrote part of a page inside its transaction (not committed).
 */
export type FaultPoint = 'after-outbox-write' | 'after-publish' | 'after-homeserver-call' | 'import-mid-page';

const spec = process.env.CAUSEWAY_FAULT;
const [armedPoint, countText] = spec ? spec.split(':') : [];
let remaining = countText ? Math.max(1, Number(countText)) : 1;

export const faultInjectionArmed = (): string | undefined => spec;

export function faultPoint(point: FaultPoint): void {
  if (armedPoint !== point) return;
  if (--remaining > 0) return;
  process.stderr.write(`${JSON.stringify({ level: 60, msg: 'CAUSEWAY_FAULT: killing the process', point })}\n`);
  process.kill(process.pid, 'SIGKILL');
  // Nothing after this point may run: block the thread until the signal lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
