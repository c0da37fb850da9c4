import { LRUCache } from 'lru-cache';

/**
 * Counts failed authentications at the introspection endpoint per client address (issue 13, F7).
 * Only failures count, so Synapse, whose calls all succeed, is never slowed however often it calls;
 * an address over the limit is refused (429) before its credentials are even checked, until its
 * window ends. Per process: each replica counts what it sees (the limit is per replica).
 */
export class FailedAuthenticationLimiter {
  private readonly windows: LRUCache<string, { failures: number; until: number }>;

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    /** Addresses tracked at once (the oldest are forgotten first). */
    capacity = 10_000,
  ) {
    this.windows = new LRUCache({ max: capacity });
  }

  /** Whether this address has used up its failures for now. */
  blocked(address: string, now = Date.now()): boolean {
    const w = this.windows.get(address);
    if (!w) return false;
    if (w.until <= now) {
      this.windows.delete(address);
      return false;
    }
    return w.failures >= this.maxFailures;
  }

  failed(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (!w || w.until <= now) this.windows.set(address, { failures: 1, until: now + this.windowMs });
    else w.failures++;
  }
}
