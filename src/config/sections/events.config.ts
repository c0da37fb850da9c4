import { z } from 'zod';
import { duration } from '../duration.js';

/** Delivery of sign-outs and account changes to the homeserver. */
export const eventsSection = z
  .object({
    shards: z.number().int().min(1).max(256).default(16).describe("Redis streams the events are sharded over, by user; fixed once deployed (a user's shard is a hash of the localpart)."),
    max_attempts: z.number().int().min(1).max(1000).default(20).describe('Failed homeserver calls before an event becomes a dead letter.'),
    backoff_initial_ms: z.number().int().min(1).default(500).describe('First retry delay in milliseconds; it doubles each attempt (with jitter) up to `backoff_max_ms`.'),
    backoff_max_ms: z.number().int().min(1).default(60000).describe('Longest retry delay in milliseconds.'),
    claim_idle: duration(1).default(30).describe('An event left unacknowledged this long is taken over from its consumer, presumed dead (a duration).'),
  })
  .strict()
  .describe('Delivery of sign-outs and account changes to the homeserver (outbox and event bus).');
export type EventsConfig = z.infer<typeof eventsSection>;
