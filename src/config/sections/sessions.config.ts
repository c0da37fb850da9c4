import { z } from 'zod';
import { duration } from '../duration.js';

const limit = z.number().int().min(0);

/** Session lifecycle (docs/operator/policy.md). Durations are seconds or `90s`, `5m`, `2h`, `1d`; 0 turns a rule off. */
export const sessionsSection = z
  .object({
    inactive_after: duration(0).default(0).describe('An OAuth 2.0 or compat session not used for this long ends: its tokens answer inactive and its device is removed at the homeserver. 0: never.'),
    browser_inactive_after: duration(0).default(0).describe('A browser session at Causeway (the sign-in cookie) not used for this long ends. 0: never (`login.browser_session_ttl` still applies).'),
    max_per_user: z
      .union([
        limit.describe('The same limit for OAuth and compat sessions.'),
        z
          .object({
            oauth: limit.default(0).describe('OAuth 2.0 sessions started by a sign-in (authorization code or device grant); 0: unlimited.'),
            compat: limit.default(0).describe('Legacy `/login` sessions (MSC3824); 0: unlimited.'),
          })
          .strict()
          .describe('A limit per kind of session.'),
      ])
      .default(0)
      .transform((v) => (typeof v === 'number' ? { oauth: v, compat: v } : v))
      .describe('Live sessions a user may hold; when a new one starts, the oldest (by creation) end. 0: unlimited.'),
  })
  .strict()
  .describe('When sessions end: inactivity and limits per user.');
