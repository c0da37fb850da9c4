import { createHash } from 'node:crypto';
import { sha256Hex } from '../../crypto/token-format.js';
import { parseSynapseToken } from '../../crypto/synapse-token-format.js';
import type { SynapseAccessToken, SynapseUser, SynapseUserDetails } from '../synapse-db/synapse-rows.js';
import { SYNAPSE_DEACTIVATED, SYNAPSE_REMOVED, type CausewayImportedToken, type CausewaySession, type CausewayUser, type PageWrites } from './causeway-state.js';
import { sample, type ImportCounts } from './import-counts.js';

/**
 * The import's decisions, as pure functions of what Synapse has and what Causeway has (no I/O):
 * which users, links, sessions and tokens to create, change or end. docs/operator/synapse-migration.md
 * states the same rules for operators.
 */

/** Bumped when what the plan derives from the same Synapse rows changes: every user is then re-applied. */
const PLAN_VERSION = 1;
const EMPTY_DETAILS: SynapseUserDetails = { externalIds: [], threepids: [], devices: [], tokens: [] };
/** Causeway's users.display_name column (Synapse allows the same 256). */
const MAX_DISPLAY_NAME = 256;
const MAX_EMAIL = 320;
/** Causeway's column sizes: compat_sessions.device_id, upstream_links.subject, compat_sessions.human_name. */
const MAX_DEVICE_ID = 255;
const MAX_SUBJECT = 512;
const MAX_DEVICE_NAME = 256;

export interface PlanContext {
  now: number;
  /** `matrix.homeserver`: Synapse's server_name. */
  serverName: string;
  /** Synapse `auth_provider` → Causeway provider id (providers' synapse_idp_id). */
  providerOf: ReadonlyMap<string, string>;
  counts: ImportCounts;
  newId: (at: number) => string;
}

/** Causeway's state of one user the page may change. */
export interface ExistingUserState {
  user: CausewayUser;
  /** The addresses in user_emails (lower-cased). */
  emails: string[];
  sessions: CausewaySession[];
  /** Tokens the import made, of this user's imported sessions. */
  tokens: CausewayImportedToken[];
}

/** The localpart of a user id on this server, or undefined for another server. */
export function localpartOf(userId: string, serverName: string): string | undefined {
  const suffix = `:${serverName}`;
  if (!userId.startsWith('@') || !userId.endsWith(suffix) || userId.length <= suffix.length + 1) return undefined;
  return userId.slice(1, -suffix.length);
}

/** A key that changes whenever the provider mapping does (part of every digest). */
export function mappingKey(ctx: Pick<PlanContext, 'serverName' | 'providerOf'>): string {
  return JSON.stringify([PLAN_VERSION, ctx.serverName, [...ctx.providerOf].sort()]);
}

/**
 * Digest of everything the plan reads about one user: its account row, the fingerprint Synapse's
 * database computed of its other rows (synapse-queries.ts), and the provider mapping.
 */
export function userDigest(user: SynapseUser, fingerprint: string, mapping: string): string {
  return createHash('sha256').update(mapping).update('\0').update(JSON.stringify(user)).update('\0').update(fingerprint).digest('hex');
}

/** Counts the rows read about one changed user. */
export function countRead(counts: ImportCounts, details: SynapseUserDetails | undefined): void {
  if (!details) return;
  counts.links.read += details.externalIds.length;
  counts.devices.read += details.devices.length;
  counts.tokens.read += details.tokens.length;
}

/** Users the import leaves out entirely (counted), or undefined when the user is imported. */
export function skipReason(user: SynapseUser, serverName: string): 'guest' | 'appservice' | 'other_server' | undefined {
  if (user.isGuest) return 'guest';
  if (user.appserviceId !== null) return 'appservice';
  if (localpartOf(user.name, serverName) === undefined) return 'other_server';
  return undefined;
}

export function countSkipped(counts: ImportCounts, reason: 'guest' | 'appservice' | 'other_server'): void {
  if (reason === 'guest') counts.users.guests++;
  else if (reason === 'appservice') counts.users.appservice++;
  else counts.users.otherServer++;
}

interface ImportableToken {
  accessHash: string;
  refreshHash: string | null;
  createdAt: number;
  expiresAt: number | null;
}

/**
 * Plans one (non-skipped) user whose digest changed, appending to `writes`.
 * `links`: existing upstream links by `provider\0subject` → user id (updated as links are planned).
 */
export function planUser(ctx: PlanContext, writes: PageWrites, su: SynapseUser, details: SynapseUserDetails | undefined, existing: ExistingUserState | undefined, links: Map<string, string>, digest: string): void {
  const { counts, now } = ctx;
  const d = details ?? EMPTY_DETAILS;
  const localpart = localpartOf(su.name, ctx.serverName)!;

  if (su.deactivated) counts.users.deactivated++;
  if (su.locked) counts.users.locked++;
  if (su.admin) counts.users.admins++;
  if (su.shadowBanned) counts.users.shadowBanned++;
  if (su.suspended) counts.users.suspended++;
  if (su.userType !== null) counts.users.userTypes[su.userType] = (counts.users.userTypes[su.userType] ?? 0) + 1;
  if (su.hasPassword && d.externalIds.length === 0 && !su.deactivated) {
    counts.users.passwordOnly++;
    sample(counts.users.passwordOnlySample, localpart);
  }

  // Every validated email (user_threepids holds only validated ones) becomes one of the account's
  // emails; the earliest added is also the account's main address (users.email).
  const emails = d.threepids.filter((t) => t.medium === 'email' && t.address.length <= MAX_EMAIL).sort((a, b) => a.addedAt - b.addedAt);
  counts.emails.otherMedia += d.threepids.filter((t) => t.medium !== 'email').length;
  if (emails.length > 1) counts.emails.severalEmails++;
  const email = emails[0]?.address ?? null;
  const displayName = su.displayname === null ? null : su.displayname.slice(0, MAX_DISPLAY_NAME);

  // The account.
  let userId: string;
  if (!existing) {
    const createdAt = su.creationTs !== null ? su.creationTs * 1000 : now;
    userId = ctx.newId(createdAt);
    writes.newUsers.push({
      id: userId,
      localpart,
      createdAt,
      lockedAt: su.locked ? now : null,
      deactivatedAt: su.deactivated ? now : null,
      canRequestAdmin: su.admin,
      displayName,
      email,
      importedAt: now,
    });
    counts.users.imported++;
  } else {
    const u = existing.user;
    userId = u.id;
    // Until the switch Synapse is the authority on the accounts it imports (the guide says so).
    const next = {
      id: u.id,
      lockedAt: su.locked ? (u.lockedAt ?? now) : null,
      deactivatedAt: su.deactivated ? (u.deactivatedAt ?? now) : null,
      canRequestAdmin: su.admin,
      displayName,
      email,
      importedAt: u.importedAt ?? now,
    };
    const changed =
      next.lockedAt !== u.lockedAt ||
      next.deactivatedAt !== u.deactivatedAt ||
      next.canRequestAdmin !== u.canRequestAdmin ||
      next.displayName !== u.displayName ||
      next.email !== u.email ||
      next.importedAt !== u.importedAt;
    if (changed) {
      writes.userUpdates.push(next);
      counts.users.updated++;
    } else counts.users.unchanged++;
  }

  const haveEmails = new Set(existing?.emails ?? []);
  for (const e of emails) {
    const address = e.address.toLowerCase();
    if (haveEmails.has(address)) continue;
    haveEmails.add(address);
    writes.newEmails.push({ id: ctx.newId(e.addedAt), userId, email: address, createdAt: e.addedAt });
    counts.emails.imported++;
  }

  // Upstream links (user_external_ids) through each provider's synapse_idp_id.
  for (const e of d.externalIds) {
    const providerId = ctx.providerOf.get(e.authProvider);
    if (!providerId) {
      counts.links.unmapped[e.authProvider] = (counts.links.unmapped[e.authProvider] ?? 0) + 1;
      continue;
    }
    if (e.externalId.length > MAX_SUBJECT) {
      counts.links.tooLong++;
      continue;
    }
    const key = `${providerId}\0${e.externalId}`;
    const owner = links.get(key);
    if (owner === userId) counts.links.existing++;
    else if (owner !== undefined) {
      counts.links.conflicts++;
      sample(counts.links.conflictSample, `${providerId}: ${e.externalId} (${su.name})`);
    } else {
      writes.newLinks.push({ id: ctx.newId(now), providerId, subject: e.externalId, userId, createdAt: now });
      links.set(key, userId);
      counts.links.imported++;
    }
  }

  planDevices(ctx, writes, su, d, existing, userId);
  writes.digests.push({ synapseUserId: su.name, userId, digest });
}

function planDevices(ctx: PlanContext, writes: PageWrites, su: SynapseUser, d: SynapseUserDetails, existing: ExistingUserState | undefined, userId: string): void {
  const { counts, now } = ctx;
  const sessions = existing?.sessions ?? [];
  const importedLive = new Map(sessions.filter((s) => s.imported && s.finishedAt === null).map((s) => [s.deviceId, s]));
  const shown = d.devices.filter((x) => !x.hidden);
  counts.devices.hidden += d.devices.length - shown.length;
  const visible = shown.filter((x) => x.deviceId.length <= MAX_DEVICE_ID);
  counts.devices.tooLong += shown.length - visible.length;

  if (su.deactivated) {
    counts.devices.deactivatedUser += visible.length;
    counts.tokens.deactivatedUser += d.tokens.length;
    for (const s of importedLive.values()) writes.endSessions.push({ id: s.id, reason: SYNAPSE_DEACTIVATED });
    return;
  }

  // A device id Causeway uses itself (any session of its own, or an imported one Causeway ended) is
  // Causeway's: the import neither adds a session there nor resurrects one.
  const causewayDevices = new Set(sessions.filter((s) => !(s.imported && (s.finishedAt === null || s.finishReason === SYNAPSE_REMOVED))).map((s) => s.deviceId));
  const visibleIds = new Set(visible.map((x) => x.deviceId));
  const tokensByDevice = importableTokens(ctx, d.tokens, visibleIds);

  for (const device of visible) {
    const tokens = tokensByDevice.get(device.deviceId) ?? [];
    const live = importedLive.get(device.deviceId);
    if (live) {
      counts.devices.kept++;
      if (live.humanName !== deviceName(device.displayName) || live.synapseAdmin !== su.admin) {
        writes.sessionUpdates.push({ id: live.id, humanName: deviceName(device.displayName), synapseAdmin: su.admin });
      }
      reconcileTokens(
        ctx,
        writes,
        live.id,
        tokens,
        (existing?.tokens ?? []).filter((t) => t.sessionId === live.id),
      );
      continue;
    }
    if (causewayDevices.has(device.deviceId)) {
      counts.devices.known++;
      counts.tokens.knownDevice += tokens.length;
      continue;
    }
    const createdAt = tokens.length ? Math.min(...tokens.map((t) => t.createdAt)) : now;
    const sessionId = ctx.newId(createdAt);
    writes.newSessions.push({ id: sessionId, userId, deviceId: device.deviceId, humanName: deviceName(device.displayName), createdAt, importedAt: now, synapseAdmin: su.admin });
    counts.devices.imported++;
    reconcileTokens(ctx, writes, sessionId, tokens, []);
  }

  for (const s of importedLive.values()) {
    if (visibleIds.has(s.deviceId)) continue;
    writes.endSessions.push({ id: s.id, reason: SYNAPSE_REMOVED });
    counts.devices.ended++;
  }
}

const deviceName = (name: string | null) => (name === null ? null : name.slice(0, MAX_DEVICE_NAME));

/** The tokens Synapse would still accept, by device, with what is left out counted. */
function importableTokens(ctx: PlanContext, tokens: SynapseAccessToken[], visible: Set<string>): Map<string, ImportableToken[]> {
  const { counts, now } = ctx;
  const out = new Map<string, ImportableToken[]>();
  for (const t of tokens) {
    if (t.puppet) counts.tokens.puppet++;
    else if (t.deviceId === null) counts.tokens.deviceless++;
    else if (!visible.has(t.deviceId)) counts.tokens.orphan++;
    else if (t.validUntilMs !== null && t.validUntilMs <= now) counts.tokens.expired++;
    else if (parseSynapseToken(t.token) !== 'synapse_access') counts.tokens.unrecognised++;
    else {
      let refreshHash: string | null = null;
      if (t.refreshToken !== null) {
        if (t.refreshSuperseded) counts.tokens.refreshSuperseded++;
        else if (t.refreshExpiryTs !== null && t.refreshExpiryTs <= now) counts.tokens.refreshExpired++;
        else if (parseSynapseToken(t.refreshToken) === 'synapse_refresh') refreshHash = sha256Hex(t.refreshToken);
        else counts.tokens.unrecognised++;
      }
      let list = out.get(t.deviceId);
      if (!list) out.set(t.deviceId, (list = []));
      list.push({ accessHash: sha256Hex(t.token), refreshHash, createdAt: t.lastValidated ?? now, expiresAt: t.validUntilMs });
    }
  }
  return out;
}

/** New Synapse tokens are added, imported ones Synapse dropped are revoked, a refresh Synapse would now refuse is consumed. */
function reconcileTokens(ctx: PlanContext, writes: PageWrites, sessionId: string, wanted: ImportableToken[], have: CausewayImportedToken[]): void {
  const { counts, now } = ctx;
  const byHash = new Map(have.map((t) => [t.accessHash, t]));
  const wantedHashes = new Set(wanted.map((t) => t.accessHash));
  for (const t of wanted) {
    const current = byHash.get(t.accessHash);
    if (current) {
      counts.tokens.kept++;
      if (current.refreshHash !== null && t.refreshHash === null && current.refreshConsumedAt === null && current.revokedAt === null) {
        writes.consumeRefresh.push(current.id);
      }
      continue;
    }
    writes.newTokens.push({ id: ctx.newId(t.createdAt), sessionId, accessHash: t.accessHash, refreshHash: t.refreshHash, createdAt: t.createdAt, expiresAt: t.expiresAt, importedAt: now });
    counts.tokens.imported++;
    if (t.refreshHash) counts.tokens.refreshable++;
  }
  for (const t of have) {
    if (t.revokedAt === null && !wantedHashes.has(t.accessHash)) {
      writes.revokeTokens.push(t.id);
      counts.tokens.revoked++;
    }
  }
}
