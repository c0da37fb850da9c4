import { IsNull } from 'typeorm';
import type { Tx } from '../database.service.js';
import { AuthorizationGrantEntity } from '../entities/index.js';

/** An authorization code (by its SHA-256) and what it was issued for (RFC 6749 §4.1, RFC 7636). */
export interface AuthorizationGrantRecord {
  id: string;
  codeHash: string;
  clientId: string;
  redirectUri: string;
  /** Space-separated, as granted. */
  scope: string;
  codeChallenge: string;
  nonce: string | null;
  userId: string;
  browserSessionId: string | null;
  authTime: number | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** The session the code was exchanged for (ended if the code is replayed). */
  sessionId: string | null;
}

const toGrant = (e: AuthorizationGrantEntity): AuthorizationGrantRecord => ({
  id: e.id,
  codeHash: e.code_hash,
  clientId: e.client_id,
  redirectUri: e.redirect_uri,
  scope: e.scope,
  codeChallenge: e.code_challenge,
  nonce: e.nonce,
  userId: e.user_id,
  browserSessionId: e.browser_session_id,
  authTime: e.auth_time,
  createdAt: e.created_at,
  expiresAt: e.expires_at,
  usedAt: e.used_at,
  sessionId: e.session_id,
});

/** Authorization codes, written at consent and read once at the token endpoint, inside the caller's transaction. */
export class AuthorizationGrantRepository {
  async insert(tx: Tx, g: AuthorizationGrantRecord): Promise<void> {
    await tx.insert(AuthorizationGrantEntity, {
      id: g.id,
      code_hash: g.codeHash,
      client_id: g.clientId,
      redirect_uri: g.redirectUri,
      scope: g.scope,
      code_challenge: g.codeChallenge,
      nonce: g.nonce,
      user_id: g.userId,
      browser_session_id: g.browserSessionId,
      auth_time: g.authTime,
      created_at: g.createdAt,
      expires_at: g.expiresAt,
      used_at: g.usedAt,
      session_id: g.sessionId,
    });
  }

  async byCodeHash(tx: Tx, codeHash: string): Promise<AuthorizationGrantRecord | undefined> {
    const e = await tx.findOneBy(AuthorizationGrantEntity, { code_hash: codeHash });
    return e ? toGrant(e) : undefined;
  }

  /** Marks the code used unless it already was (also by a concurrent exchange): whether this call did. */
  async claim(tx: Tx, id: string, at: number): Promise<boolean> {
    return !!(await tx.update(AuthorizationGrantEntity, { id, used_at: IsNull() }, { used_at: at })).affected;
  }

  /** Records the session the code became. */
  async attachSession(tx: Tx, id: string, sessionId: string): Promise<void> {
    await tx.update(AuthorizationGrantEntity, { id }, { session_id: sessionId });
  }
}
