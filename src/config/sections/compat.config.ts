import { z } from 'zod';
import { duration } from '../duration.js';

/**
 * The legacy `/login` API (MSC3824 compatibility layer): what the reverse proxy sends to Causeway
 * for `^/_matrix/client/[^/]+/(login|logout|refresh)`. See docs/operator/legacy-clients.md.
 */
export const compatSection = z
  .object({
    enabled: z.boolean().default(true).describe('Offer the legacy login API; when false those routes answer 404 `M_UNRECOGNIZED`.'),
    token_ttl: duration(1).default(300).describe('Lifetime of a legacy access token when the client asked for a refresh token (a duration: `300`, `5m`); without one it never expires.'),
    login_token_ttl: duration(1).default(30).describe('How long after the SSO sign-in its `loginToken` may be exchanged at `POST /login`.'),
  })
  .strict()
  .describe('The legacy `/login` API (MSC3824 compatibility layer) for clients that do not speak OAuth.');
