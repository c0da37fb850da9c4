import { z } from 'zod';
import { duration } from '../duration.js';

export const loginSection = z
  .object({
    /** How long a sign-in may take from /authorize to the redirect back. */
    ttl: duration(30).default(1800),
    /** Lifetime of the browser session cookie (the user stays signed in at Causeway). */
    browser_session_ttl: duration(60).default(60 * 60 * 24 * 7),
  })
  .strict();
export type LoginConfig = z.infer<typeof loginSection>;
