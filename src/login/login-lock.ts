import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../storage/kv-store.js';
import { PageError } from '../web/page-error.js';

export interface LoginLockTiming {
  /** How long a held lock lives if its holder never releases it (a crashed replica). */
  ttlSeconds: number;
  /** How long a request waits for the lock before the "please wait" page. */
  waitMs: number;
  /** How often a waiting request tries again. */
  pollMs: number;
}

/** Upper bound of one step (60 s) plus margin; a login's step must never outlive its lock. */
export const LOGIN_LOCK_TIMING: LoginLockTiming = { ttlSeconds: 75, waitMs: 15_000, pollMs: 50 };

const lockKey = (loginId: string) => `login-lock:${loginId}`;

/**
 * One request at a time changes a login (double submits, two tabs), across replicas. With Redis
 * (`shared`), the lock is a key holding a random token of this acquisition, with a TTL; it is
 * released only by that token (compare-and-delete, as the event bus's leases are), so a holder
 * that outlived the TTL cannot delete the lock of the request that took over. Without Redis there
 * is one replica (the config enforces it) and an in-process queue per login suffices.
 */
export class LoginLock {
  private readonly local = new Map<string, Promise<unknown>>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly shared: boolean,
    private readonly timing: LoginLockTiming = LOGIN_LOCK_TIMING,
  ) {}

  run<T>(loginId: string, work: () => Promise<T>): Promise<T> {
    return this.shared ? this.runShared(loginId, work) : this.runLocal(loginId, work);
  }

  private async runShared<T>(loginId: string, work: () => Promise<T>): Promise<T> {
    const owner = randomBytes(16).toString('base64url');
    const deadline = Date.now() + this.timing.waitMs;
    while (!(await this.kv.setIfAbsent(lockKey(loginId), owner, this.timing.ttlSeconds))) {
      if (Date.now() > deadline) {
        throw new PageError(409, 'error.title.please_wait', 'error.login_locked', { reason: 'login_locked' });
      }
      await new Promise((r) => setTimeout(r, this.timing.pollMs));
    }
    try {
      return await work();
    } finally {
      await this.kv.deleteIfEquals(lockKey(loginId), owner);
    }
  }

  private async runLocal<T>(loginId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.local.get(loginId) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(work);
    const tail = mine.catch(() => undefined);
    this.local.set(loginId, tail);
    try {
      return await mine;
    } finally {
      if (this.local.get(loginId) === tail) this.local.delete(loginId);
    }
  }
}
