import { z } from 'zod';
import { duration } from '../duration.js';

/**
 * The retention sweeper (README "Policy and lifecycle"): what old rows go, and how fast. One
 * replica sweeps at a time (a lease in Redis, else in the database); rows go in small batches.
 */
export const retentionSection = z
  .object({
    /** Run the sweeper in this process (every replica competes for the lease; one sweeps). */
    enabled: z.boolean().default(true),
    /** Time between two sweeps (each also ends idle and expired sessions, `sessions.*`). */
    interval: duration(1).default(300),
    /** Rows deleted per statement: each statement is short, so sign-ins are never held up for long. */
    batch_size: z.number().int().min(10).max(10_000).default(500),
    /** Grace after an access/refresh token, authorization code or device code expired, was revoked or used, before its row goes. */
    tokens: duration(0).default(86_400),
    /** Finished sessions (OAuth, compat, browser, upstream) are deleted this long after they ended; their audit rows stay. */
    sessions: duration(0).default(30 * 86_400),
    /** Delivered outbox events are kept this long (dead letters stay until replayed or removed). */
    outbox: duration(0).default(7 * 86_400),
    /** Audit rows older than this are deleted. Default: kept forever. */
    audit: duration(1).optional(),
  })
  .strict();
export type RetentionConfig = z.infer<typeof retentionSection>;
