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

/**
 * Why a sign-in, a registration or the linking of an upstream identity was refused: what the person
 * is told (the web layer turns each refusal into its page: web/domain-error-pages.ts).
 */
export type SignInRefusal =
  | 'registration_disabled'
  | 'registration_existing_only'
  | 'forced_localpart_missing'
  | 'forced_localpart_invalid'
  | 'localpart_rule'
  | 'email_domain_rule'
  | 'account_not_found'
  | 'account_locked'
  | 'account_deactivated'
  | 'account_exists'
  | 'link_confirmation_mismatch'
  | 'method_not_addable'
  | 'link_session_gone'
  | 'identity_linked_elsewhere'
  | 'homeserver_unreachable'
  | 'sign_in_unavailable';

/**
 * A refused sign-in. `params` fill the person's message (the provider's display name, the policy
 * rule's key: never claim values); `details` are for the log (`reason` names the refusal there).
 */
export class SignInRefusedError extends Error {
  constructor(
    readonly refusal: SignInRefusal,
    readonly params: { provider?: string; rule?: string } = {},
    readonly details: { reason?: string; [k: string]: unknown } = {},
  ) {
    super(`sign-in refused: ${refusal}`);
    this.name = 'SignInRefusedError';
  }
}
