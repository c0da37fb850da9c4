import { z } from 'zod';
import { duration } from '../duration.js';

/** Lifetimes. Durations are seconds or `90s`, `5m`, `2h`, `1d`. Short values are for tests. */
export const tokensSection = z
  .object({
    access_token_ttl: duration(1).default(300).describe('Lifetime of an access token (a duration: seconds, or `90s`, `5m`, `2h`, `1d`).'),
    refresh_token_ttl: duration(0)
      .default(60 * 60 * 24 * 30)
      .describe('Idle lifetime of a refresh token; `0`: until its session ends.'),
    authorization_code_ttl: duration(1)
      .default(600)
      .refine((s) => s <= 600, 'must be at most 600 seconds')
      .describe('Lifetime of an authorization code, at most 10 minutes (RFC 6749 §4.1.2).'),
    device_code_ttl: duration(1).default(1800).describe('How long a device code (RFC 8628) may be approved and polled for.'),
    device_code_interval: duration(1).default(5).describe('Minimum interval between two polls of the token endpoint with a device code.'),
    id_token_ttl: duration(10).default(300).describe('Lifetime of an ID token.'),
    introspection_cache_ttl: duration(0)
      .default(10)
      .describe('How long one replica may answer an introspection from memory; `0`: always ask the database. Every revocation and sign-out clears the affected entries in every replica at once.'),
    introspection_cache_max_entries: z.number().int().min(1).default(100_000).describe('Most introspection answers one replica keeps in memory; the least recently used go first.'),
    introspection_cache_max_bytes: z
      .number()
      .int()
      .min(1024)
      .default(128 * 1024 * 1024)
      .describe(
        'Most memory (bytes, estimated per answer) the introspection cache of one replica may hold; the least recently used answers go first. The default, 128 MiB, holds the default 100,000 answers of a typical size.',
      ),
  })
  .strict()
  .describe('Token lifetimes and the introspection cache.');
