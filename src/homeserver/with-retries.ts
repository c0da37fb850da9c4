import { backoffDelay, SYNC_CALL_ATTEMPTS, SYNC_CALL_INITIAL_DELAY_MS, SYNC_CALL_MAX_DELAY_MS } from './backoff.js';
import { HomeserverError } from './homeserver.adapter.js';

export interface RetryOptions {
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry (logging, metrics). */
  onRetry?: (error: HomeserverError, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs a homeserver call that must succeed before Causeway answers a user (provision_user and
 * upsert_device before a token is issued): bounded retries with back-off, on transient failures only.
 * A permanent failure (4xx) or the last transient one is rethrown; the caller turns it into an error page.
 */
export async function withHomeserverRetries<T>(call: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? SYNC_CALL_ATTEMPTS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const transient = e instanceof HomeserverError && e.transient;
      if (!transient || attempt >= attempts) throw e;
      const delay = backoffDelay(attempt, opts.initialDelayMs ?? SYNC_CALL_INITIAL_DELAY_MS, opts.maxDelayMs ?? SYNC_CALL_MAX_DELAY_MS);
      opts.onRetry?.(e, attempt, delay);
      await sleep(delay);
    }
  }
}
