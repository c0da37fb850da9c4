/**
 * The worst moments for the process to die, named so that fault tests can prove nothing is lost
 * across a crash there. In production each point is a no-op: nothing here reads the environment,
 * and only a test installs a hook (test/support/fault-injection.mjs, preloaded with `node --import`
 * by the test harness, never part of the build or the image), which SIGKILLs the process at the
 * point it was told to.
 *
 * - `after-outbox-write`: rows are committed in the outbox but not yet published to Redis
 *   (or, embedded, not yet delivered).
 * - `after-publish`: rows are in Redis but not yet marked published.
 * - `after-homeserver-call`: the homeserver confirmed, but the row is not marked delivered nor the message acknowledged.
 * - `import-mid-page`: `causeway import synapse` wrote part of a page inside its transaction (not committed).
 */
export type FaultPoint = 'after-outbox-write' | 'after-publish' | 'after-homeserver-call' | 'import-mid-page';

let hook: ((point: FaultPoint) => void) | undefined;

export function faultPoint(point: FaultPoint): void {
  hook?.(point);
}

/** Tests only: what runs at every fault point (the preloaded test module installs it). */
export function installFaultHook(h: (point: FaultPoint) => void): void {
  hook = h;
}
