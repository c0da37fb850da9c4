import { z } from 'zod';
import { duration } from '../duration.js';

export const loginSection = z
  .object({
    ttl: duration(30).default(1800).describe('How long a sign-in may take, from `/authorize` to the redirect back to the client (a duration: `1800`, `30m`).'),
    browser_session_ttl: duration(60)
      .default(60 * 60 * 24 * 7)
      .describe('How long a person stays signed in at Causeway in their browser (later sign-ins skip the IdP).'),
  })
  .strict()
  .describe('Sign-in flow.');
