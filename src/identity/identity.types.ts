/** Storage-free identity types (what the rest of Causeway sees of users, links and sessions). */

export interface User {
  id: string;
  localpart: string;
  createdAt: number;
  lockedAt: number | null;
  deactivatedAt: number | null;
  displayName: string | null;
  email: string | null;
  /** Per-user flag (admin API, CLI, import): may request `urn:synapse:admin:*`. */
  canRequestAdmin: boolean;
  /** Set by a provider's `admin` rule at the user's last sign-in through it. */
  idpAdmin: boolean;
}

export interface UserEmail {
  id: string;
  userId: string;
  email: string;
  createdAt: number;
}

export interface UpstreamLink {
  id: string;
  providerId: string;
  subject: string;
  userId: string;
  createdAt: number;
}

export interface BrowserSession {
  id: string;
  userId: string;
  providerId: string;
  upstreamSessionId: string | null;
  createdAt: number;
  authenticatedAt: number;
  lastActiveAt: number | null;
  finishedAt: number | null;
  userAgent: string | null;
}

export interface UpstreamSession {
  id: string;
  providerId: string;
  subject: string;
  userId: string;
  upstreamSid: string | null;
  details: Record<string, unknown> | null;
  browserSessionId: string | null;
  createdAt: number;
  endedAt: number | null;
}
