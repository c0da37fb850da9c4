import { z } from 'zod';
import { duration } from '../duration.js';

const limit = z.number().int().min(0);

/**
 * Session lifecycle (README "Policy and lifecycle"). Durations are seconds or `90s`, `5m`, `2h`,
 * `1d`; 0 turns a rule off.
 */
export const sessionsSection = z
  .object({
    /** An OAuth 2.0 or compat session not used for this long ends (tokens inactive, device removed at the homeserver). 0 = never. */
    inactive_after: duration(0).default(0),
    /** A browser session at Causeway (the sign-in cookie) not used for this long ends. 0 = never (`login.browser_session_ttl` still applies). */
    browser_inactive_after: duration(0).default(0),
    /**
     * Live sessions a user may hold; when a new one starts, the oldest (by creation) ends. One number
     * for both kinds, or per kind: `{ oauth: 20, compat: 5 }`. 0 = unlimited.
     */
    max_per_user: z
      .union([limit, z.object({ oauth: limit.default(0), compat: limit.default(0) }).strict()])
      .default(0)
      .transform((v) => (typeof v === 'number' ? { oauth: v, compat: v } : v)),
  })
  .strict();
export type SessionsConfig = z.infer<typeof sessionsSection>;
