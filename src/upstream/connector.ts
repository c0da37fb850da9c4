import type { ProviderConfig } from './providers.schema.js';
import type { Msg } from '../web/i18n/message.js';
import { englishText } from '../web/i18n/english.js';

/**
 * The contract every upstream protocol implements (CONTRIBUTING.md, "Add an upstream connector").
 * Connectors are pure protocol: they never touch users, sessions or the login machine. The login
 * module owns the flow.
 */

/**
 * The request a sign-in serves, as the provider's templated `authorization_params` see it
 * (`{{ request.login_hint }}`, …). Values come from the downstream client: templates decide what
 * reaches the IdP.
 */
export interface DownstreamRequest {
  /** The OAuth client the sign-in is for (absent for the account pages and legacy SSO). */
  client_id?: string;
  /** The authorization request's `login_hint`, as sent (e.g. `mxid:@alice:example.com`). */
  login_hint?: string;
  /** The `prompt` values, space-separated ('' when none). */
  prompt: string;
  /** The authorization request's `acr_values`, as sent. */
  acr_values?: string;
  /** The browser signed out of Causeway since its last sign-in (a cookie set at sign-out, cleared at sign-in). */
  logged_out: boolean;
}

/** What a connector needs to start a sign-in. */
export interface UpstreamLoginContext {
  loginId: string;
  /**
   * Single-use, unguessable value bound to this login. The connector must send it through the
   * IdP so that it comes back on the callback (OIDC `state`, SAML `RelayState`, a `state` query
   * parameter on the CAS service URL) and return it from `extractState`.
   */
  state: string;
  /** Absolute URL of the callback for this provider (e.g. {public_base}upstream/{id}/callback). */
  callbackUrl: string;
  /** `prompt` values of the authorization request (`login` ⇒ force re-authentication upstream). */
  prompt: string[];
  /** `login_hint` to pass upstream, if any (already stripped of Matrix-specific prefixes). */
  loginHint?: string;
  /** The downstream request, for templated authorization parameters (absent: an empty request). */
  request?: DownstreamRequest;
}

export interface BeginResult {
  /** Send the browser here (HTTP 303). */
  redirectUrl?: string;
  /** Or auto-submit this form (HTTP-POST binding); rendered as a page with a Continue button. */
  formPost?: { url: string; fields: Record<string, string> };
  /** Protocol state kept in the login machine until the callback (nonce, PKCE verifier, request id). JSON-serialisable. */
  saved: Record<string, unknown>;
}

/** The callback request as the connector sees it. */
export interface CallbackRequest {
  method: 'GET' | 'POST';
  /** Full URL as received (query included). */
  url: string;
  query: Record<string, string>;
  body: Record<string, string>;
  ip: string;
  /**
   * Set by the login module (never from the request) when the callback carries no state and the
   * connector accepted it as unsolicited (`acceptsUnsolicited`): an IdP-initiated sign-in, not the
   * answer to this login's request.
   */
  unsolicited?: boolean;
}

/** A verified upstream identity, normalised. */
export interface Assertion {
  providerId: string;
  /** Stable subject used to link the account (after the `claims.subject` template, if any). */
  subject: string;
  /**
   * Namespace of the subject within the provider (a SAML federation: the IdP's entity ID). The
   * claims mapping prefixes the final subject (after `claims.subject`) with it, so identical
   * subjects at two IdPs of one provider are two identities.
   */
  subjectScope?: string;
  /** Every attribute/claim; multi-valued ones as arrays. Available to templates as `user.*`. */
  attributes: Record<string, string | string[]>;
  /** Identifies the upstream session for inbound logout (OIDC sid, SAML SessionIndex, CAS ticket). */
  upstreamSid?: string;
  /** Protocol details kept with the upstream session (e.g. SAML NameID + format, OIDC id_token for id_token_hint). */
  sessionDetails?: Record<string, unknown>;
}

/** An upstream session as stored, for logout. */
export interface UpstreamSessionRef {
  providerId: string;
  subject: string;
  upstreamSid: string | null;
  details: Record<string, unknown> | null;
}

export type UpstreamErrorKind =
  | 'state_mismatch'
  | 'replayed'
  | 'signature_invalid'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'recipient_mismatch'
  | 'expired'
  | 'not_yet_valid'
  | 'nonce_mismatch'
  | 'unsolicited'
  | 'malformed'
  | 'upstream_denied'
  | 'upstream_unavailable'
  | 'requirement_failed'
  /** A multi-tenant provider's token from a tenant not on its allow-list. */
  | 'tenant_not_allowed'
  | 'account_unavailable'
  | 'config';

/**
 * A sign-in that failed upstream. `userMessage` (a catalog message) is shown on the page in the
 * person's language and must be safe: no claim values, no tokens, no internals in its parameters.
 * `cause` is logged, never shown.
 */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    readonly userMessage: Msg,
    override readonly cause?: unknown,
    readonly status = 400,
  ) {
    super(`${kind}: ${englishText(userMessage)}`);
    this.name = 'UpstreamError';
  }
}

/** A connector's state on /health/ready: `degraded`, never `down` (the other providers keep working). */
export interface ConnectorHealth {
  status: 'up' | 'degraded';
  detail?: string;
}

/**
 * One provider's connector. Besides the sign-in (`begin`, `extractState`, `complete`), a connector
 * may have a lifecycle, which the connector registry runs the same way for every kind: `start()`
 * before the server listens (awaited: load what the first sign-in needs, or begin fetching it in
 * the background), `stop()` at shutdown, `health()` on /health/ready.
 */
export interface UpstreamConnector {
  readonly provider: ProviderConfig;
  /**
   * Start-up work (OIDC discovery, SAML metadata and its refresh timer). Awaited before the server
   * listens; must not throw because the IdP is unreachable: that is reported by `health()`.
   */
  start?(): Promise<void>;
  /** Shutdown: stop timers and background work. */
  stop?(): void;
  /** The connector's state, shown on /health/ready. */
  health?(): ConnectorHealth;
  /** Start a sign-in: where to send the browser, and what to keep until the callback. */
  begin(ctx: UpstreamLoginContext): Promise<BeginResult>;
  /** The `state` this callback carries (undefined if none): the login module takes it (single use) to find the login. */
  extractState(req: CallbackRequest): string | undefined;
  /** Verify the callback and return the identity. Throws UpstreamError. */
  complete(req: CallbackRequest, saved: Record<string, unknown>, ctx: UpstreamLoginContext): Promise<Assertion>;
  /**
   * Whether a callback without state may start a sign-in of its own (IdP-initiated SSO, e.g. SAML
   * with `allow_idp_initiated: true`). The login module then starts a login to the account pages
   * and completes it with `unsolicited: true`. Absent or false: such callbacks are refused.
   */
  acceptsUnsolicited?(req: CallbackRequest): boolean;
  /**
   * RP/SP-initiated logout: where to send the browser to end the upstream session too (optional).
   * The IdP (or the connector's own logout endpoint) finally sends the browser to `returnTo` with `?state=`.
   */
  logoutUrl?(session: UpstreamSessionRef, opts: { returnTo: string; state: string }): Promise<string | undefined>;
}
