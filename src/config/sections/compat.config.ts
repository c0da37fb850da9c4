import { z } from 'zod';
import { duration } from '../duration.js';

/**
 * The legacy `/login` API (MSC3824 compatibility layer): what the reverse proxy sends to Causeway
 * for `^/_matrix/client/[^/]+/(login|logout|refresh)`. See README "Legacy clients (MSC3824)".
 */
export const compatSection = z
  .object({
    /** Off: those routes answer 404 M_UNRECOGNIZED (the spec's "legacy API not offered"). */
    enabled: z.boolean().default(true),
    /**
     * Lifetime of a compat access token when the client asked for `refresh_token: true` (MAS's
     * `experimental.compat_token_ttl`). Without a refresh token the access token never expires.
     */
    token_ttl: duration(1).default(300),
    /** How long after the SSO login its `loginToken` may be exchanged at `POST /login` (MAS: 30 s). */
    login_token_ttl: duration(1).default(30),
  })
  .strict();
export type CompatConfig = z.infer<typeof compatSection>;
