import { IsNull } from 'typeorm';
import type { Database, Tx } from '../database.service.js';
import { CompatSessionEntity, CompatTokenEntity } from '../entities/index.js';

/** A session of the legacy `/login` API (one Matrix device). */
export interface CompatSessionRecord {
  id: string;
  userId: string;
  deviceId: string;
  humanName: string | null;
  browserSessionId: string | null;
  redirectHost: string | null;
  createdAt: number;
  finishedAt: number | null;
  lastActiveAt: number | null;
  lastActiveIp: string | null;
}

/** A compat access token and, when refreshable, its refresh token, by their SHA-256. */
export interface CompatTokenRecord {
  id: string;
  sessionId: string;
  accessTokenHash: string;
  refreshTokenHash: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  refreshConsumedAt: number | null;
}

const toSession = (e: CompatSessionEntity): CompatSessionRecord => ({
  id: e.id,
  userId: e.user_id,
  deviceId: e.device_id,
  humanName: e.human_name,
  browserSessionId: e.browser_session_id,
  redirectHost: e.redirect_host,
  createdAt: e.created_at,
  finishedAt: e.finished_at,
  lastActiveAt: e.last_active_at,
  lastActiveIp: e.last_active_ip,
});

const toToken = (e: CompatTokenEntity): CompatTokenRecord => ({
  id: e.id,
  sessionId: e.session_id,
  accessTokenHash: e.access_token_hash,
  refreshTokenHash: e.refresh_token_hash,
  createdAt: e.created_at,
  expiresAt: e.expires_at,
  revokedAt: e.revoked_at,
  refreshConsumedAt: e.refresh_consumed_at,
});

/**
 * Compat sessions with their tokens (one aggregate: tokens go with their session). Ending sessions
 * is SessionEndRepository's hot path (session-end/), not this.
 */
export class CompatSessionRepository {
  constructor(private readonly db: Database) {}

  async insertSession(tx: Tx, s: Omit<CompatSessionRecord, 'finishedAt'>): Promise<void> {
    await tx.insert(CompatSessionEntity, {
      id: s.id,
      user_id: s.userId,
      device_id: s.deviceId,
      human_name: s.humanName,
      browser_session_id: s.browserSessionId,
      redirect_host: s.redirectHost,
      created_at: s.createdAt,
      finished_at: null,
      finish_reason: null,
      last_active_at: s.lastActiveAt,
      last_active_ip: s.lastActiveIp,
    });
  }

  async insertToken(tx: Tx, t: Pick<CompatTokenRecord, 'id' | 'sessionId' | 'accessTokenHash' | 'refreshTokenHash' | 'createdAt' | 'expiresAt'>): Promise<void> {
    await tx.insert(CompatTokenEntity, {
      id: t.id,
      session_id: t.sessionId,
      access_token_hash: t.accessTokenHash,
      refresh_token_hash: t.refreshTokenHash,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      revoked_at: null,
      refresh_consumed_at: null,
      next_token_id: null,
    });
  }

  /** The unfinished session, in the caller's transaction if given. */
  async liveSession(id: string, tx: Tx = this.db.manager): Promise<CompatSessionRecord | undefined> {
    const e = await tx.findOneBy(CompatSessionEntity, { id, finished_at: IsNull() });
    return e ? toSession(e) : undefined;
  }

  async tokenByAccessHash(hash: string): Promise<CompatTokenRecord | undefined> {
    const e = await this.db.manager.findOneBy(CompatTokenEntity, { access_token_hash: hash });
    return e ? toToken(e) : undefined;
  }

  async tokenByRefreshHash(tx: Tx, hash: string): Promise<CompatTokenRecord | undefined> {
    const e = await tx.findOneBy(CompatTokenEntity, { refresh_token_hash: hash });
    return e ? toToken(e) : undefined;
  }

  /**
   * Consumes a refresh token (pointing at its successor, expiring its access token at `expiresAt`)
   * unless it was consumed or revoked meanwhile: of two concurrent refreshes only one gets true.
   */
  async consumeRefresh(tx: Tx, tokenId: string, nextTokenId: string, now: number, expiresAt: number): Promise<boolean> {
    const r = await tx.update(CompatTokenEntity, { id: tokenId, refresh_consumed_at: IsNull(), revoked_at: IsNull() }, { refresh_consumed_at: now, next_token_id: nextTokenId, expires_at: expiresAt });
    return r.affected === 1;
  }

  /** The last use of the session and the client address it came from. */
  async touch(tx: Tx, sessionId: string, at: number, ip: string | null): Promise<void> {
    await tx.update(CompatSessionEntity, { id: sessionId }, { last_active_at: at, last_active_ip: ip });
  }
}
