/**
 * Every back-off constant of Causeway's homeserver delivery, in one place.
 *
 * - Synchronous calls made before a token is issued (provision_user, upsert_device): a few quick
 *   retries, because a user is waiting on the page.
 * - The event bus (sign-outs, deactivations): exponential back-off with equal jitter (backoffDelay)
 *   between `events.backoff_initial_ms` and `events.backoff_max_ms` (config), until
 *   `events.max_attempts`.
 */

/** Attempts of a synchronous homeserver call (first try included) before the user sees an error page. */
export const SYNC_CALL_ATTEMPTS = 4;
/** First retry delay of a synchronous call; doubles each retry. */
export const SYNC_CALL_INITIAL_DELAY_MS = 150;
/** Cap of one synchronous retry delay: the whole sequence stays within a few seconds. */
export const SYNC_CALL_MAX_DELAY_MS = 1500;

/** How often a shard consumer polls when idle (XREADGROUP BLOCK), in ms. */
export const BUS_BLOCK_MS = 1000;
/** How often the relay scans the outbox when nothing woke it, in ms. */
export const RELAY_POLL_MS = 500;
/** Rows the relay moves per batch. */
export const RELAY_BATCH = 500;
/**
 * Safety net: published-but-undelivered rows older than this are re-published (a message lost in a
 * partial Redis data loss). Long, because during a homeserver outage every waiting row qualifies
 * and each republish is a duplicate message; a full Redis data loss is detected at once instead.
 */
export const REPUBLISH_AFTER_MS = 5 * 60_000;
/** Longest lease of a shard held by one consumer, in ms; renewed at a third of it. */
export const SHARD_LEASE_MS = 15_000;
/** Shortest shard lease, in ms: renewing more often than every second would only load Redis. */
export const SHARD_LEASE_MIN_MS = 3_000;

/**
 * The shard lease for `events.claim_idle` (ms): a dead consumer's shards free up about when its
 * messages become claimable, within [SHARD_LEASE_MIN_MS, SHARD_LEASE_MS].
 */
export function shardLeaseMs(claimIdleMs: number): number {
  return Math.min(SHARD_LEASE_MS, Math.max(SHARD_LEASE_MIN_MS, claimIdleMs));
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential from `initialMs`, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so many failing shards do not retry in step
 * but a retry never comes absurdly early.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Users delivered together: one query reads their rows, their homeserver calls run in parallel. */
export const DELIVERY_BATCH_SIZE = 200;
/** Batches in flight at once per process (each user's events stay sequential). */
export const DELIVERY_PARALLEL_BATCHES = 8;
/** /health/ready reports the bus `degraded` when an event has waited longer than this, in ms. */
export const DEGRADED_AFTER_MS = 5 * 60_000;
