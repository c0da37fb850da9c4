import { z } from 'zod';
import { duration } from '../duration.js';

/** Lifetimes. Durations are seconds or `90s`, `5m`, `2h`, `1d`. Short values are for tests. */
export const tokensSection = z
  .object({
    access_token_ttl: duration(1).default(300),
    /** Idle lifetime of a refresh token (0 = until the session ends). */
    refresh_token_ttl: duration(0).default(60 * 60 * 24 * 30),
    /** At most 10 minutes (contract §3.3). */
    authorization_code_ttl: duration(1).default(600).refine((s) => s <= 600, 'must be at most 600 seconds'),
    device_code_ttl: duration(1).default(1800),
    device_code_interval: duration(1).default(5),
    id_token_ttl: duration(10).default(300),
    /**
     * How long one replica may answer an introspection from memory (0 = always ask the database).
     * Revocation in any replica clears the caches at once (Redis pub/sub when configured).
     */
    introspection_cache_ttl: duration(0).default(10),
  })
  .strict();
export type TokensConfig = z.infer<typeof tokensSection>;
