/**
 * What `causeway import synapse` reads from Synapse's database, one type per table (schema version
 * 94, Synapse 1.157). Column lists are in synapse-queries.ts; docs/operator/synapse-migration.md
 * lists them for operators.
 */

export type SourceKind = 'postgres' | 'sqlite';

/** `users` joined with `profiles` (display name). Booleans normalised from Synapse's 0/1 smallints. */
export interface SynapseUser {
  /** Full Matrix user id, `@localpart:server_name`. */
  name: string;
  hasPassword: boolean;
  /** Seconds since the epoch (Synapse stores this one in seconds), or null. */
  creationTs: number | null;
  admin: boolean;
  isGuest: boolean;
  appserviceId: string | null;
  userType: string | null;
  deactivated: boolean;
  shadowBanned: boolean;
  locked: boolean;
  suspended: boolean;
  displayname: string | null;
}

/** A user of a page and the fingerprint of everything else the import reads about it. */
export interface SynapsePageUser {
  user: SynapseUser;
  fingerprint: string;
}

export interface SynapseExternalId {
  userId: string;
  authProvider: string;
  externalId: string;
}

export interface SynapseThreepid {
  userId: string;
  medium: string;
  address: string;
  addedAt: number;
}

export interface SynapseDevice {
  userId: string;
  deviceId: string;
  displayName: string | null;
  /** Hidden devices hold cross-signing keys: not devices a client signs in with. */
  hidden: boolean;
}

/**
 * One `access_tokens` row with its `refresh_tokens` pair when it has one, and what Synapse's
 * refresh would check about that pair's successor (`lookup_refresh_token`).
 */
export interface SynapseAccessToken {
  id: number;
  userId: string;
  deviceId: string | null;
  token: string;
  /** Expiry in ms, or null (never). */
  validUntilMs: number | null;
  /** An admin's "log in as" token (`puppets_user_id`): not the user's own session. */
  puppet: boolean;
  lastValidated: number | null;
  refreshToken: string | null;
  refreshExpiryTs: number | null;
  /** The successor pair was already used (its access token seen, or its refresh token refreshed): Synapse refuses this refresh token. */
  refreshSuperseded: boolean;
}

/** Everything read about the users of one page, grouped by user id. */
export interface SynapseUserDetails {
  externalIds: SynapseExternalId[];
  threepids: SynapseThreepid[];
  devices: SynapseDevice[];
  tokens: SynapseAccessToken[];
}
