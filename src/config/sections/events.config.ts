import { z } from 'zod';
import { duration } from '../duration.js';

/** Delivery of sign-outs and account changes to the homeserver. */
export const eventsSection = z
  .object({
    /** Number of Redis streams events are sharded over (by user). */
    shards: z.number().int().min(1).max(256).default(16),
    /** Attempts before a message goes to the dead-letter stream. */
    max_attempts: z.number().int().min(1).max(1000).default(20),
    /** First retry delay, in milliseconds; doubles each attempt (with jitter) up to backoff_max_ms. */
    backoff_initial_ms: z.number().int().min(1).default(500),
    backoff_max_ms: z.number().int().min(1).default(60000),
    /** A message unacknowledged this long is taken over from its (presumed dead) consumer. */
    claim_idle: duration(1).default(30),
  })
  .strict();
export type EventsConfig = z.infer<typeof eventsSection>;
