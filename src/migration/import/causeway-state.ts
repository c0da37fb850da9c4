/**
 * What the import reads from, and writes to, Causeway's own database for one page of Synapse users:
 * the state of the accounts it may touch, and the changes it plans (import-plan.ts) and applies
 * (causeway-target.ts) in one transaction per page.
 */

export interface CausewayUser {
  id: string;
  localpart: string;
  lockedAt: number | null;
  deactivatedAt: number | null;
  canRequestAdmin: boolean;
  displayName: string | null;
  email: string | null;
  importedAt: number | null;
}

/** A session of either kind on one device (only what the import decides on). */
export interface CausewaySession {
  id: string;
  userId: string;
  kind: 'compat' | 'oauth2';
  deviceId: string;
  /** Compat sessions made by the import. */
  imported: boolean;
  finishedAt: number | null;
  finishReason: string | null;
  humanName: string | null;
  synapseAdmin: boolean;
}

/** A compat token the import made (Causeway's own tokens are never touched). */
export interface CausewayImportedToken {
  id: string;
  sessionId: string;
  accessHash: string;
  refreshHash: string | null;
  revokedAt: number | null;
  refreshConsumedAt: number | null;
}

/** The finish_reason of sessions the import ends because Synapse no longer has their device. */
export const SYNAPSE_REMOVED = 'synapse_removed';
/** The finish_reason of sessions the import ends because Synapse deactivated their user. */
export const SYNAPSE_DEACTIVATED = 'synapse_deactivated';

/** What the import sets on an account it creates or updates (Synapse is the authority until the switch). */
export interface UserUpdate {
  id: string;
  lockedAt: number | null;
  deactivatedAt: number | null;
  canRequestAdmin: boolean;
  displayName: string | null;
  email: string | null;
  importedAt: number;
}

export interface NewUserRow extends UserUpdate {
  localpart: string;
  createdAt: number;
}

export interface NewLinkRow {
  id: string;
  providerId: string;
  subject: string;
  userId: string;
  createdAt: number;
}

export interface NewEmailRow {
  id: string;
  userId: string;
  /** Lower-cased, as user_emails stores them. */
  email: string;
  createdAt: number;
}

export interface NewSessionRow {
  id: string;
  userId: string;
  deviceId: string;
  humanName: string | null;
  createdAt: number;
  importedAt: number;
  synapseAdmin: boolean;
}

export interface NewTokenRow {
  id: string;
  sessionId: string;
  accessHash: string;
  refreshHash: string | null;
  createdAt: number;
  expiresAt: number | null;
  importedAt: number;
}

export interface DigestRow {
  synapseUserId: string;
  userId: string;
  digest: string;
}

/** Everything one page changes, applied in one transaction. */
export interface PageWrites {
  newUsers: NewUserRow[];
  userUpdates: UserUpdate[];
  newLinks: NewLinkRow[];
  newEmails: NewEmailRow[];
  newSessions: NewSessionRow[];
  sessionUpdates: { id: string; humanName: string | null; synapseAdmin: boolean }[];
  endSessions: { id: string; reason: string }[];
  newTokens: NewTokenRow[];
  revokeTokens: string[];
  consumeRefresh: string[];
  digests: DigestRow[];
}

export function emptyWrites(): PageWrites {
  return { newUsers: [], userUpdates: [], newLinks: [], newEmails: [], newSessions: [], sessionUpdates: [], endSessions: [], newTokens: [], revokeTokens: [], consumeRefresh: [], digests: [] };
}

export function writeCount(w: PageWrites): number {
  return (
    w.newUsers.length +
    w.userUpdates.length +
    w.newLinks.length +
    w.newEmails.length +
    w.newSessions.length +
    w.sessionUpdates.length +
    w.endSessions.length +
    w.newTokens.length +
    w.revokeTokens.length +
    w.consumeRefresh.length +
    w.digests.length
  );
}
