import { In, IsNull } from 'typeorm';
import type { Database, Tx } from '../database.service.js';
import { CompatSessionEntity, OAuth2SessionEntity } from '../entities/index.js';

/** `oauth`: an OAuth 2.0 session (a client on a Matrix device); `compat`: a legacy `/login` one. */
export type DeviceSessionKind = 'oauth' | 'compat';

/** A live session holding a Matrix device, as the account page lists it. */
export interface LiveDeviceSession {
  id: string;
  kind: DeviceSessionKind;
  /** OAuth sessions only. */
  clientId: string | null;
  deviceId: string | null;
  /** Compat sessions: the name the app gave its device at sign-in. */
  humanName: string | null;
  /** Compat sessions: the host the SSO login returned to. */
  redirectHost: string | null;
  createdAt: number;
  lastActiveAt: number | null;
  browserSessionId: string | null;
}

const live = (userId: string) => ({ user_id: userId, finished_at: IsNull() });

/**
 * The sessions that hold a Matrix device, OAuth and compat alike, as one user's: what the account
 * page lists and ends, what the admin API counts and renames, what `sessions.max_per_user` trims.
 * Ending sessions is SessionEndRepository's hot path (session-end/), not this.
 */
export class DeviceSessionRepository {
  constructor(private readonly db: Database) {}

  /** The user's live sessions of both kinds, newest first. */
  async liveOf(userId: string): Promise<LiveDeviceSession[]> {
    const oauth = await this.db.manager.find(OAuth2SessionEntity, { where: live(userId), order: { created_at: 'DESC' } });
    const compat = await this.db.manager.find(CompatSessionEntity, { where: live(userId), order: { created_at: 'DESC' } });
    const rows: LiveDeviceSession[] = [
      ...oauth.map((r) => ({
        id: r.id,
        kind: 'oauth' as const,
        clientId: r.client_id,
        deviceId: r.device_id,
        humanName: r.human_name,
        redirectHost: null,
        createdAt: r.created_at,
        lastActiveAt: r.last_active_at,
        browserSessionId: r.browser_session_id,
      })),
      ...compat.map((c) => ({
        id: c.id,
        kind: 'compat' as const,
        clientId: null,
        deviceId: c.device_id,
        humanName: c.human_name,
        redirectHost: c.redirect_host,
        createdAt: c.created_at,
        lastActiveAt: c.last_active_at,
        browserSessionId: c.browser_session_id,
      })),
    ];
    // Stable: OAuth sessions before compat ones created in the same millisecond, as the page always listed them.
    return rows.sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Whether `id` is a live session of this kind belonging to `userId`. */
  async isLiveOf(kind: DeviceSessionKind, id: string, userId: string): Promise<boolean> {
    const where = { id, ...live(userId) };
    return kind === 'compat' ? this.db.manager.existsBy(CompatSessionEntity, where) : this.db.manager.existsBy(OAuth2SessionEntity, where);
  }

  /** Live sessions of both kinds (personal token sessions included). */
  async countLive(userId: string): Promise<number> {
    return (await this.db.manager.count(OAuth2SessionEntity, { where: live(userId) })) + (await this.db.manager.count(CompatSessionEntity, { where: live(userId) }));
  }

  /** Names the device in the live sessions holding it; how many sessions did. */
  async rename(tx: Tx, userId: string, deviceId: string, name: string): Promise<number> {
    const where = { ...live(userId), device_id: deviceId };
    return ((await tx.update(OAuth2SessionEntity, where, { human_name: name })).affected ?? 0) + ((await tx.update(CompatSessionEntity, where, { human_name: name })).affected ?? 0);
  }

  /** The user's live sessions of both kinds on one device (a reused device id replaces them). */
  async liveOnDevice(tx: Tx, userId: string, deviceId: string): Promise<{ oauth: string[]; compat: string[] }> {
    const where = { ...live(userId), device_id: deviceId };
    const oauth = await tx.find(OAuth2SessionEntity, { where, select: { id: true } });
    const compat = await tx.find(CompatSessionEntity, { where, select: { id: true } });
    return { oauth: oauth.map((s) => s.id), compat: compat.map((s) => s.id) };
  }

  /** The user's live sessions of both kinds. */
  async liveIdsOf(tx: Tx, userId: string): Promise<{ oauth: string[]; compat: string[] }> {
    const oauth = await tx.find(OAuth2SessionEntity, { where: live(userId), select: { id: true } });
    const compat = await tx.find(CompatSessionEntity, { where: live(userId), select: { id: true } });
    return { oauth: oauth.map((s) => s.id), compat: compat.map((s) => s.id) };
  }

  /** The live sessions of both kinds that a sign-in in these browser sessions produced. */
  async liveBornFrom(tx: Tx, browserSessionIds: string[]): Promise<{ oauth: string[]; compat: string[] }> {
    const where = { browser_session_id: In(browserSessionIds), finished_at: IsNull() };
    const oauth = await tx.find(OAuth2SessionEntity, { where, select: { id: true } });
    const compat = await tx.find(CompatSessionEntity, { where, select: { id: true } });
    return { oauth: oauth.map((s) => s.id), compat: compat.map((s) => s.id) };
  }

  /**
   * Ids of the user's live sessions of a kind, oldest first (`grantTypes` narrows OAuth sessions).
   * On PostgreSQL, first takes the user's session-count lock for the rest of the transaction, so two
   * concurrent sign-ins of one user count one after the other (SQLite runs one transaction at a time).
   */
  async liveIdsOldestFirst(tx: Tx, userId: string, kind: DeviceSessionKind, grantTypes: readonly string[]): Promise<string[]> {
    if (this.db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`causeway.sessions:${userId}`]);
    const order = { created_at: 'ASC', id: 'ASC' } as const;
    const rows =
      kind === 'oauth'
        ? await tx.find(OAuth2SessionEntity, { where: { ...live(userId), grant_type: In([...grantTypes]) }, select: { id: true }, order })
        : await tx.find(CompatSessionEntity, { where: live(userId), select: { id: true }, order });
    return rows.map((r) => r.id);
  }
}
