import type { AuthorizationRequest, DeviceAuthorizationRef } from './authorize/authorization-request.js';
import type { OAuthError } from './errors.js';

/**
 * What the OAuth module offers the rest of Causeway (the login flow, upstream logout receivers,
 * the admin API). Implemented in src/oauth2 and exported by OAuth2Module under these tokens.
 */

export interface SignedInUser {
  userId: string;
  localpart: string;
}
export interface BrowserSessionRef {
  id: string;
  /** When the user last authenticated (ms), for auth_time / max_age. */
  authenticatedAt: number;
}

/** What the consent page shows about a client (all user-facing strings already localized). */
export interface ClientDisplay {
  clientId: string;
  name: string;
  clientUri?: string;
  logoUri?: string;
  tosUri?: string;
  policyUri?: string;
  /** Host of the (plain, never localized) client_uri, shown so users can tell look-alike names apart. */
  host?: string;
  /** Where the browser goes back to (redirect URI host, or a native app's scheme), when there is one. */
  redirectTarget?: string;
}

export abstract class AuthorizationCompleter {
  /**
   * Validates raw /authorize parameters (pre-login checks, the query as parsed: a repeated
   * parameter is an array). Throws an OAuth2RefusalError when the client or redirect URI cannot be trusted
   * (show the page), or an AuthorizationRedirectError (authorize/authorization-redirect.error.ts)
   * carrying the error redirect `location` for everything else; the global error filter answers
   * the latter with a 303 if the controller does not catch it.
   */
  abstract validate(params: Record<string, unknown>): Promise<AuthorizationRequest>;
  /**
   * `languages`: the browser's preferred language tags (Accept-Language order) for `client_name#fr`
   * etc.; `redirectUri`: the authorization request's, shown as where the browser will return.
   */
  abstract clientDisplay(clientId: string, languages?: string[], redirectUri?: string): Promise<ClientDisplay>;
  /**
   * True when this user has not yet allowed this client these scopes (or prompt=consent); false
   * when the request asks for admin scopes the user may not be granted (complete() refuses it).
   */
  abstract needsConsent(req: AuthorizationRequest, user: SignedInUser): Promise<boolean>;
  abstract recordConsent(req: AuthorizationRequest, userId: string): Promise<void>;
  /**
   * Finishes a successful authorization: makes sure the homeserver knows the user and the device
   * (bounded retries; throws an OAuth2RefusalError if it stays down), issues the code, and returns the
   * redirect URL to send the browser to (an error redirect if the user may not have a requested
   * scope, e.g. urn:synapse:admin:*). Older sessions on the same device end when the code is
   * exchanged for tokens.
   */
  abstract complete(req: AuthorizationRequest, user: SignedInUser, session: BrowserSessionRef): Promise<string>;
  /** The redirect URL carrying an error back to the client (with state, in the right response mode). */
  abstract errorRedirect(req: AuthorizationRequest, error: OAuthError): string;
}

export abstract class DeviceGrantDecider {
  /** The pending device authorization for a user code (case-insensitive, dashes optional), if any. */
  abstract find(userCode: string): Promise<DeviceAuthorizationRef | undefined>;
  /** Approves it for this user (homeserver provisioning included, as for `complete`). */
  abstract approve(userCode: string, user: SignedInUser, session: BrowserSessionRef): Promise<void>;
  abstract deny(userCode: string): Promise<void>;
}

/** How a session ended (audit log and metrics). */
export type EndReason =
  | 'user_logout'
  | 'revoked'
  | 'refresh_reuse'
  | 'code_reuse'
  | 'replaced_device'
  | 'admin'
  | 'upstream_logout'
  | 'deactivated'
  | 'locked'
  /** Its tokens expired (refresh token included) or the client never came back before they did. */
  | 'expired'
  /** Not used for `sessions.inactive_after`. */
  | 'inactive'
  /** A newer session of the user took its place (`sessions.max_per_user`). */
  | 'session_limit'
  /** The user may no longer hold `urn:synapse:admin:*` (demoted, or left the IdP's admin group). */
  | 'admin_right_lost'
  /** The client was deleted by an admin. */
  | 'client_deleted';

/** Matches the upstream sessions an inbound logout names. */
export interface UpstreamSessionMatch {
  /** OIDC sid, SAML SessionIndex, CAS service ticket. */
  upstreamSid?: string;
  /** OIDC sub / SAML NameID value: alone, every session of that subject; with a sid, the session must match both. */
  subject?: string;
}

/**
 * Ends sessions — OAuth 2.0 sessions and the compatibility layer's `/login` sessions alike: revokes
 * their tokens at once (introspection answers inactive) and, in the same transaction, writes the
 * outbox event that removes the devices from the homeserver.
 */
export abstract class SessionTerminator {
  /** Returns whether the session was still live. `actor` is recorded in the audit rows (default `system`). */
  abstract endOAuthSession(sessionId: string, reason: EndReason, actor?: string): Promise<boolean>;
  /** A compatibility (`/login`, MSC3824) session. Returns whether it was still live. */
  abstract endCompatSession(sessionId: string, reason: EndReason, actor?: string): Promise<boolean>;
  /** Every live compatibility session of a user (`/logout/all`); OAuth sessions are left alone. Returns how many ended. */
  abstract endCompatSessionsOfUser(userId: string, reason: EndReason): Promise<number>;
  /** A browser session and every session (OAuth or compat) born from it (RP-initiated logout). */
  abstract endBrowserSession(browserSessionId: string, reason: EndReason, actor?: string): Promise<void>;
  /** Every session of a user, OAuth and compat (admin "sign out everywhere", lock, deactivation). Returns how many ended. */
  abstract endAllSessionsOfUser(userId: string, reason: EndReason, actor?: string): Promise<number>;
  /** Every live OAuth session of a client (the client was deleted). Returns how many ended. */
  abstract endSessionsOfClient(clientId: string, reason: EndReason, actor?: string): Promise<number>;
  /** The user's live OAuth sessions whose granted scope holds any of `scopeTokens` (e.g. `urn:synapse:admin:*`). Returns how many ended. */
  abstract endSessionsWithScope(userId: string, scopeTokens: readonly string[], reason: EndReason, actor?: string): Promise<number>;
  /** Inbound upstream logout: every Causeway session born from the matching upstream sessions. Returns how many ended. */
  abstract endUpstreamSessions(providerId: string, match: UpstreamSessionMatch): Promise<number>;
}
