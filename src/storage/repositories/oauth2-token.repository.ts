import { IsNull } from 'typeorm';
import type { Database, Tx } from '../database.service.js';
import { AccessTokenEntity, OAuth2SessionEntity, RefreshTokenEntity } from '../entities/index.js';

/** A client's session on a Matrix device (or a machine's, or a personal token's): the tokens hang off it. */
export interface OAuth2SessionRecord {
  id: string;
  userId: string | null;
  clientId: string;
  deviceId: string | null;
  /** Space-separated, as granted. */
  scope: string;
  grantType: string;
  browserSessionId: string | null;
  createdAt: number;
  lastActiveAt: number | null;
  /** After this no token of the session can be used or refreshed (null: never). */
  expiresAt: number | null;
  finishedAt: number | null;
  finishReason: string | null;
  humanName: string | null;
  lastActiveIp: string | null;
}

/** An access token, by the SHA-256 of its text (the text itself is never stored). */
export interface AccessTokenRecord {
  id: string;
  tokenHash: string;
  sessionId: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  firstUsedAt: number | null;
}

/** A refresh token: single use, rotated into `nextRefreshTokenId`. */
export interface RefreshTokenRecord {
  id: string;
  tokenHash: string;
  sessionId: string;
  /** The access token issued with it (revoked when it is used). */
  accessTokenId: string;
  createdAt: number;
  expiresAt: number | null;
  consumedAt: number | null;
  nextRefreshTokenId: string | null;
  revokedAt: number | null;
}

const toSession = (e: OAuth2SessionEntity): OAuth2SessionRecord => ({
  id: e.id,
  userId: e.user_id,
  clientId: e.client_id,
  deviceId: e.device_id,
  scope: e.scope,
  grantType: e.grant_type,
  browserSessionId: e.browser_session_id,
  createdAt: e.created_at,
  lastActiveAt: e.last_active_at,
  expiresAt: e.expires_at,
  finishedAt: e.finished_at,
  finishReason: e.finish_reason,
  humanName: e.human_name,
  lastActiveIp: e.last_active_ip,
});

const toAccess = (e: AccessTokenEntity): AccessTokenRecord => ({
  id: e.id,
  tokenHash: e.token_hash,
  sessionId: e.session_id,
  createdAt: e.created_at,
  expiresAt: e.expires_at,
  revokedAt: e.revoked_at,
  firstUsedAt: e.first_used_at,
});

const toRefresh = (e: RefreshTokenEntity): RefreshTokenRecord => ({
  id: e.id,
  tokenHash: e.token_hash,
  sessionId: e.session_id,
  accessTokenId: e.access_token_id,
  createdAt: e.created_at,
  expiresAt: e.expires_at,
  consumedAt: e.consumed_at,
  nextRefreshTokenId: e.next_refresh_token_id,
  revokedAt: e.revoked_at,
});

const live = { finished_at: IsNull() };

/**
 * OAuth 2.0 sessions and their access and refresh tokens: what the token endpoint's grants write
 * and read, inside the grant's transaction. Introspection reads tokens on its own hot path
 * (`oauth2/introspect/token-lookup.ts`); ending sessions is SessionEnder's statement.
 */
export class OAuth2TokenRepository {
  constructor(private readonly db: Database) {}

  // ---- sessions ------------------------------------------------------------------------------------

  async insertSession(tx: Tx, s: OAuth2SessionRecord): Promise<void> {
    await tx.insert(OAuth2SessionEntity, {
      id: s.id,
      user_id: s.userId,
      client_id: s.clientId,
      device_id: s.deviceId,
      scope: s.scope,
      grant_type: s.grantType,
      browser_session_id: s.browserSessionId,
      created_at: s.createdAt,
      last_active_at: s.lastActiveAt,
      expires_at: s.expiresAt,
      finished_at: s.finishedAt,
      finish_reason: s.finishReason,
      human_name: s.humanName,
      last_active_ip: s.lastActiveIp,
    });
  }

  async findSession(tx: Tx, id: string): Promise<OAuth2SessionRecord | undefined> {
    const e = await tx.findOneBy(OAuth2SessionEntity, { id });
    return e ? toSession(e) : undefined;
  }

  /** A use of the session: its last activity, and (when given) its new end and the client's address. */
  async touchSession(tx: Tx, id: string, use: { at: number; expiresAt?: number | null; ip?: string | null }): Promise<void> {
    await tx.update(OAuth2SessionEntity, { id }, { last_active_at: use.at, ...(use.expiresAt !== undefined ? { expires_at: use.expiresAt } : {}), ...(use.ip !== undefined ? { last_active_ip: use.ip } : {}) });
  }

  /** Ids of a client's live sessions. */
  async liveIdsOfClient(tx: Tx, clientId: string): Promise<string[]> {
    return (await tx.find(OAuth2SessionEntity, { where: { client_id: clientId, ...live }, select: { id: true } })).map((s) => s.id);
  }

  /** The user's live sessions with their scope. */
  async liveScopesOf(tx: Tx, userId: string): Promise<{ id: string; scope: string }[]> {
    return (await tx.find(OAuth2SessionEntity, { where: { user_id: userId, ...live }, select: { id: true, scope: true } })).map((s) => ({ id: s.id, scope: s.scope }));
  }

  // ---- tokens --------------------------------------------------------------------------------------

  async insertAccessToken(tx: Tx, t: AccessTokenRecord): Promise<void> {
    await tx.insert(AccessTokenEntity, {
      id: t.id,
      token_hash: t.tokenHash,
      session_id: t.sessionId,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      revoked_at: t.revokedAt,
      first_used_at: t.firstUsedAt,
    });
  }

  async insertRefreshToken(tx: Tx, t: RefreshTokenRecord): Promise<void> {
    await tx.insert(RefreshTokenEntity, {
      id: t.id,
      token_hash: t.tokenHash,
      session_id: t.sessionId,
      access_token_id: t.accessTokenId,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      consumed_at: t.consumedAt,
      next_refresh_token_id: t.nextRefreshTokenId,
      revoked_at: t.revokedAt,
    });
  }

  async accessToken(tx: Tx, id: string): Promise<AccessTokenRecord | undefined> {
    const e = await tx.findOneBy(AccessTokenEntity, { id });
    return e ? toAccess(e) : undefined;
  }

  async refreshTokenByHash(tx: Tx, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const e = await tx.findOneBy(RefreshTokenEntity, { token_hash: tokenHash });
    return e ? toRefresh(e) : undefined;
  }

  async refreshToken(tx: Tx, id: string): Promise<RefreshTokenRecord | undefined> {
    const e = await tx.findOneBy(RefreshTokenEntity, { id });
    return e ? toRefresh(e) : undefined;
  }

  /** Marks a refresh token used unless it already was (a concurrent refresh): whether this call did. */
  async consumeRefreshToken(tx: Tx, id: string, at: number): Promise<boolean> {
    return !!(await tx.update(RefreshTokenEntity, { id, consumed_at: IsNull() }, { consumed_at: at })).affected;
  }

  async revokeRefreshToken(tx: Tx, id: string, at: number): Promise<void> {
    await tx.update(RefreshTokenEntity, { id }, { revoked_at: at });
  }

  /** Records the token a refresh token was rotated into. */
  async linkSuccessor(tx: Tx, id: string, nextId: string): Promise<void> {
    await tx.update(RefreshTokenEntity, { id }, { next_refresh_token_id: nextId });
  }

  /** Revokes an access token still live; its hash when this call revoked it (for the caches). */
  async revokeAccessToken(tx: Tx, id: string, at: number): Promise<string | undefined> {
    const t = await tx.findOne(AccessTokenEntity, { where: { id }, select: { id: true, token_hash: true, revoked_at: true } });
    if (!t || t.revoked_at !== null) return undefined;
    await tx.update(AccessTokenEntity, { id }, { revoked_at: at });
    return t.token_hash;
  }

  /** The first use of an access token (its successor pair then counts as received by the client). */
  async markFirstUsed(id: string, at: number): Promise<void> {
    await this.db.transaction((tx) => tx.update(AccessTokenEntity, { id, first_used_at: IsNull() }, { first_used_at: at }));
  }
}
