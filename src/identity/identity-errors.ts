/**
 * Why an identity operation (user lifecycle, links) was refused. Domain errors: the edges map them
 * (the admin API to `{errcode, error}` with a status, `causeway manage` to a message and exit code).
 * Messages are operator-facing and never hold secrets.
 */
export type IdentityErrorKind =
  /** No such user / link / provider. */
  | 'not_found'
  /** The input breaks a rule (localpart grammar, unknown provider, …). */
  | 'invalid'
  /** A localpart or upstream identity that already belongs to someone. */
  | 'conflict'
  /** Removing the user's last way to sign in without `force`. */
  | 'last_sign_in_method'
  /** The account is deactivated (and the operation needs an active one), or similar state rules. */
  | 'wrong_state'
  /** The homeserver could not be asked (e.g. whether a localpart is free). */
  | 'homeserver_unavailable';

export class IdentityError extends Error {
  constructor(
    readonly kind: IdentityErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}
