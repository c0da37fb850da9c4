/** Identity types (what the rest of Causeway sees of users, links and sessions). */

/**
 * `canRequestAdmin`: the per-user flag (admin API, CLI, import): may request `urn:synapse:admin:*`.
 * `idpAdmin`: set by a provider's `admin` rule at the user's last sign-in through it.
 */
export type { UserRecord as User, UserEmailRecord as UserEmail } from '../storage/repositories/user.repository.js';

export type { UpstreamLinkRecord as UpstreamLink } from '../storage/repositories/upstream-link.repository.js';

export type { BrowserSessionRecord as BrowserSession, UpstreamSessionRecord as UpstreamSession } from '../storage/repositories/browser-session.repository.js';
