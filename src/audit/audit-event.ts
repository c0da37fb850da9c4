/**
 * The actions of the sign-in audit trail, written through AuditLogRepository (storage). Actions are
 * dotted names: admin actions have their own (`user.lock`, `upstream_link.add`…), and the sign-out
 * statements write `oauth2_session.end` / `compat_session.end` in SQL.
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
