import { z } from 'zod';
import { duration } from '../duration.js';

/** Lifetimes. Durations are seconds or `90s`, `5m`, `2h`, `1d`. */
export const tokensSection = z
  .object({
    access_token_ttl: duration(10).default(300),
    /** Idle lifetime of a refresh token (0 = until the session ends). */
    refresh_token_ttl: duration(0).default(60 * 60 * 24 * 30),
    authorization_code_ttl: duration(10).default(600),
    device_code_ttl: duration(60).default(1800),
    device_code_interval: duration(1).default(5),
    id_token_ttl: duration(10).default(300),
  })
  .strict();
export type TokensConfig = z.infer<typeof tokensSection>;
