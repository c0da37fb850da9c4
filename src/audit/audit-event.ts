/**
 * The events of the audit trail. Actions are dotted names; the ones below are written by the
 * sign-in and token paths, admin actions add their own (`user.lock`, `events.dead_letter.replay`…),
 * and the sign-out statements write `oauth2_session.end` / `compat_session.end` in SQL.
 */
export const AUDIT_ACTIONS = {
  /** A sign-in at an upstream IdP ended (`details.outcome`: success, failure, cancelled, expired). */
  loginAttempt: 'login.attempt',
  /** The user approved a client's access (consent page). */
  consentGranted: 'consent.granted',
  authorizationCodeIssued: 'authorization_code.issued',
  /** A token pair from the token endpoint (`details.grant`: authorization_code, refresh_token, device_code, client_credentials). */
  tokenIssued: 'token.issued',
  /** A rotated refresh token presented again after its successor was used: the session was ended. */
  refreshTokenReused: 'refresh_token.reused',
  /** An IdP told us a session ended there (OIDC back-channel, SAML LogoutRequest, CAS logoutRequest). */
  upstreamLogout: 'upstream_logout.received',
} as const;

export interface AuditEvent {
  action: string;
  /** Who acted: `user:<id>`, `client:<client_id>`, `upstream:<provider>`, `admin-token`, `anonymous`, `system`. */
  actor: string;
  /** What it acted on (a session, a client, a user…), when that is not just the user. */
  target?: string | null;
  /** The account concerned, if known. */
  userId?: string | null;
  /** Anything else worth keeping: provider, outcome, reason, client_id, scope, device_id… Never a secret. */
  details?: Record<string, unknown>;
  /** When (epoch ms); defaults to now. Callers stamp it with the time of the change they record. */
  at?: number;
}

/** One audit record as stored in `details` and streamed: the event plus where it came from. */
export interface AuditRecord {
  id: string;
  time: string;
  action: string;
  actor: string;
  target: string | null;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}
