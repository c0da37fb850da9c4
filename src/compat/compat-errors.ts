import { MatrixError } from '../matrix/matrix-error.js';

/**
 * Every error of the compatibility layer's JSON endpoints, with the status, errcode and text MAS
 * answers (docs/contracts/synapse.md §5.2; matrix-authentication-service crates/handlers/src/compat/).
 */
export const CompatErrors = {
  // Body parsing (MAS MatrixJsonBody).
  contentTypeNotJson: () => new MatrixError(400, 'M_NOT_JSON', 'Invalid Content-Type header: expected application/json'),
  notJson: () => new MatrixError(400, 'M_NOT_JSON', 'Body is not a valid JSON document'),
  badJson: () => new MatrixError(400, 'M_BAD_JSON', 'JSON fields are not valid'),
  tooLarge: () => new MatrixError(413, 'M_TOO_LARGE', 'Request body too large'),

  // POST /login
  invalidLoginType: () => new MatrixError(400, 'M_UNKNOWN', 'Invalid login type'),
  /** SPEC v1.17 (MSC4190): appservices manage devices with `PUT /devices/{id}` instead. Stricter than MAS (M_UNKNOWN). */
  appserviceLoginUnsupported: () => new MatrixError(400, 'M_APPSERVICE_LOGIN_UNSUPPORTED', 'Application services cannot log in: use device management (MSC4190) instead'),
  invalidLoginToken: () => new MatrixError(403, 'M_FORBIDDEN', 'Invalid login token'),
  loginTokenExpired: () => new MatrixError(403, 'M_FORBIDDEN', 'Login token expired'),
  userLocked: () => new MatrixError(401, 'M_USER_LOCKED', 'User account has been locked'),
  /** As Synapse's own /login answers a deactivated account. */
  userDeactivated: () => new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated'),
  /** MAS checks the length only; Causeway also the OAuth device id grammar (scope token characters, not a dot segment). */
  invalidDeviceId: (grammar = false) => new MatrixError(400, 'M_INVALID_PARAM', grammar ? 'device_id may only hold printable ASCII without spaces, quotes or backslashes' : 'device_id must be 1 to 255 characters'),
  /** Synapse's own check (and what its upsert_device would answer). */
  displayNameTooLong: () => new MatrixError(400, 'M_TOO_LARGE', 'Device display name is too long (max 100)'),
  internal: () => new MatrixError(500, 'M_UNKNOWN', 'Internal server error'),

  // POST /logout, /logout/all
  missingToken: () => new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token'),
  /** An Authorization header that is not `Bearer <token>` (Synapse's wording: docs/contracts/synapse.md §2.4). */
  malformedAuthorization: () => new MatrixError(401, 'M_MISSING_TOKEN', 'Invalid Authorization header.'),
  invalidAccessToken: () => new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Invalid access token'),
  logoutAllNotSupported: () => new MatrixError(404, 'M_UNRECOGNIZED', 'The /logout/all endpoint is not supported by this deployment'),

  // POST /refresh
  invalidRefreshToken: () => new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Invalid refresh token'),
} as const;
