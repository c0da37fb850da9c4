/** What one run read, did and left out: the summary table, `--check`'s findings and the bench figures. */
export interface ImportCounts {
  users: {
    read: number;
    imported: number;
    updated: number;
    unchanged: number;
    guests: number;
    appservice: number;
    /** Not `@…:matrix.homeserver` (a server name mismatch: a blocker). */
    otherServer: number;
    deactivated: number;
    locked: number;
    admins: number;
    shadowBanned: number;
    suspended: number;
    /** `user_type` values other than null (bot, support, …) and how many users have each. */
    userTypes: Record<string, number>;
    /** A password and no external id: after the switch they sign in only once an upstream identity is linked. */
    passwordOnly: number;
    passwordOnlySample: string[];
  };
  links: {
    read: number;
    imported: number;
    existing: number;
    conflicts: number;
    conflictSample: string[];
    /** auth_provider values no Causeway provider claims through synapse_idp_id, with their row counts. */
    unmapped: Record<string, number>;
    /** External ids longer than Causeway's subjects (512 characters). */
    tooLong: number;
  };
  /** Addresses added to user_emails; users with more than one; threepids that are not emails (left out). */
  emails: { imported: number; severalEmails: number; otherMedia: number };
  devices: {
    read: number;
    imported: number;
    kept: number;
    hidden: number;
    /** Causeway already has a session of its own on that device id: left to it. */
    known: number;
    /** Devices of deactivated users (Synapse removes them on deactivation; leftovers are not imported). */
    deactivatedUser: number;
    /** Imported sessions whose device Synapse no longer has: ended. */
    ended: number;
    /** Device ids longer than Causeway's (255 characters). */
    tooLong: number;
  };
  tokens: {
    read: number;
    imported: number;
    kept: number;
    refreshable: number;
    puppet: number;
    deviceless: number;
    /** Their device is missing or hidden in Synapse. */
    orphan: number;
    expired: number;
    unrecognised: number;
    deactivatedUser: number;
    /** On a device Causeway already has a session of its own on. */
    knownDevice: number;
    refreshExpired: number;
    refreshSuperseded: number;
    /** Imported tokens Synapse no longer has: revoked. */
    revoked: number;
  };
}

export function emptyCounts(): ImportCounts {
  return {
    users: {
      read: 0,
      imported: 0,
      updated: 0,
      unchanged: 0,
      guests: 0,
      appservice: 0,
      otherServer: 0,
      deactivated: 0,
      locked: 0,
      admins: 0,
      shadowBanned: 0,
      suspended: 0,
      userTypes: {},
      passwordOnly: 0,
      passwordOnlySample: [],
    },
    links: { read: 0, imported: 0, existing: 0, conflicts: 0, conflictSample: [], unmapped: {}, tooLong: 0 },
    emails: { imported: 0, severalEmails: 0, otherMedia: 0 },
    devices: { read: 0, imported: 0, kept: 0, hidden: 0, known: 0, deactivatedUser: 0, ended: 0, tooLong: 0 },
    tokens: {
      read: 0,
      imported: 0,
      kept: 0,
      refreshable: 0,
      puppet: 0,
      deviceless: 0,
      orphan: 0,
      expired: 0,
      unrecognised: 0,
      deactivatedUser: 0,
      knownDevice: 0,
      refreshExpired: 0,
      refreshSuperseded: 0,
      revoked: 0,
    },
  };
}

/** Samples shown in reports: enough to find the accounts, not a dump of them. */
export const SAMPLE_SIZE = 10;

export function sample(list: string[], value: string): void {
  if (list.length < SAMPLE_SIZE) list.push(value);
}
