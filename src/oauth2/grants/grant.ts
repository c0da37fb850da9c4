import type { OAuthClient } from '../clients/client.js';

export interface GrantRequest {
  client: OAuthClient;
  params: Record<string, string>;
  /** The client's address (per `http.trust_proxy`), recorded on the session. */
  ip?: string;
}

/** One grant type of the token endpoint (one file per grant under grants/). */
export interface TokenGrant {
  readonly type: string;
  /** The RFC 6749 §5.1 success body, or an OAuthError. */
  exchange(req: GrantRequest): Promise<Record<string, unknown>>;
}
