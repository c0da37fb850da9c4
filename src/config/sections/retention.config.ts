import { z } from 'zod';
import { duration } from '../duration.js';

/**
 * The retention sweeper (docs/operator/policy.md): what old rows go, and how fast. One replica
 * sweeps at a time (a lease in Redis, else in the database); rows go in small batches.
 */
export const retentionSection = z
  .object({
    enabled: z.boolean().default(true).describe('Run the sweeper in this process (every replica competes for the lease; one sweeps at a time).'),
    interval: duration(1).default(300).describe('Time between two sweeps; each also ends idle and expired sessions (`sessions`).'),
    batch_size: z.number().int().min(10).max(10_000).default(500).describe('Rows deleted per statement: each statement is short, so sign-ins never wait long behind the sweeper.'),
    tokens: duration(0).default(86_400).describe('How long expired, used or revoked access and refresh tokens, authorization codes and device codes are kept (refresh-token reuse is detected this long).'),
    sessions: duration(0)
      .default(30 * 86_400)
      .describe('How long finished sessions (OAuth, compat, browser, upstream) are kept; their audit rows stay.'),
    outbox: duration(0)
      .default(7 * 86_400)
      .describe('How long delivered homeserver events are kept (dead letters stay until replayed).'),
    audit: duration(1).optional().describe('Audit rows older than this are deleted. Default: kept forever.'),
  })
  .strict()
  .describe('The retention sweeper: how long old rows are kept.');
