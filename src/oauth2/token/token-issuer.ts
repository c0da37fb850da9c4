import { Inject, Injectable } from '@nestjs/common';
import { IsNull, Not, type EntityManager } from 'typeorm';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { generateToken, sha256Base64Url, sha256Hex } from '../../crypto/token-format.js';
import { KeyStore } from '../../crypto/key-store.js';
import { AccessTokenEntity, CompatSessionEntity, OAuth2SessionEntity, RefreshTokenEntity } from '../../storage/entities/index.js';
import { ulid } from '../../storage/ulid.js';
import type { OAuthClient } from '../clients/client.js';
import { SessionEnder } from '../sessions/session-ender.js';
import { INTERACTIVE_GRANTS, SessionLimit } from '../sessions/session-limit.js';
import { IssuanceRecorder } from './issuance-recorder.js';

export interface NewSession {
  userId: string | null;
  clientId: string;
  deviceId?: string;
  scope: string[];
  grantType: string;
  browserSessionId?: string | null;
  /** A name for the session (personal tokens). */
  humanName?: string | null;
  /** The client's address. */
  ip?: string | null;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  accessRow: AccessTokenEntity;
  refreshRow?: RefreshTokenEntity;
  expiresIn: number;
}

export interface IdTokenClaims {
  userId: string;
  nonce?: string | null;
  authTime?: number | null;
  sid?: string | null;
}

/** Creates sessions and mints token pairs (stored as SHA-256 hashes only). */
@Injectable()
export class TokenIssuer {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly keys: KeyStore,
    private readonly ender: SessionEnder,
    private readonly recorder: IssuanceRecorder,
    private readonly limit: SessionLimit,
  ) {}

  /**
   * A new session. A user signing in again on a device id they already use ends the older
   * sessions on it (OAuth, or a legacy client's compat session) in the same transaction (SPEC
   * §Relationship between access tokens and devices), and so do the user's oldest sessions beyond
   * `sessions.max_per_user`; the caller calls `ender.committed()` after commit when `replaced` > 0.
   */
  async startSession(em: EntityManager, s: NewSession, now = Date.now()): Promise<{ session: OAuth2SessionEntity; replaced: number }> {
    let replaced = 0;
    if (s.userId && s.deviceId) {
      const where = { user_id: s.userId, device_id: s.deviceId, finished_at: IsNull() };
      const older = await em.find(OAuth2SessionEntity, { where, select: { id: true } });
      const olderCompat = await em.find(CompatSessionEntity, { where, select: { id: true } });
      replaced = await this.ender.endSessions(em, { oauth: older.map((o) => o.id), compat: olderCompat.map((o) => o.id) }, 'replaced_device', 'system', now);
    }
    if (s.userId && INTERACTIVE_GRANTS.includes(s.grantType)) replaced += await this.limit.makeRoom(em, s.userId, 'oauth', now);
    const session = em.create(OAuth2SessionEntity, {
      id: ulid(now),
      user_id: s.userId,
      client_id: s.clientId,
      device_id: s.deviceId ?? null,
      scope: s.scope.join(' '),
      grant_type: s.grantType,
      browser_session_id: s.browserSessionId ?? null,
      created_at: now,
      last_active_at: now,
      expires_at: null,
      finished_at: null,
      finish_reason: null,
      human_name: s.humanName ?? null,
      last_active_ip: s.ip?.slice(0, 64) ?? null,
    });
    await em.insert(OAuth2SessionEntity, session);
    return { session, replaced };
  }

  /**
   * An access token (and a refresh token when asked), recorded as issued by `opts.grant` (audit
   * trail, causeway_tokens_issued_total). `personal`: a personal access token (`mpt_`) with its own
   * expiry (null: never), never with a refresh token.
   */
  async issue(
    em: EntityManager,
    session: OAuth2SessionEntity,
    opts: { refresh: boolean; grant: string; personal?: { expiresAt: number | null } },
    now = Date.now(),
  ): Promise<IssuedTokens> {
    await this.recorder.record(em, {
      grant: opts.grant,
      clientId: session.client_id,
      userId: session.user_id,
      sessionId: session.id,
      scope: session.scope.split(' '),
      deviceId: session.device_id,
      refresh: opts.refresh,
      at: now,
    });
    const ttl = opts.personal ? (opts.personal.expiresAt === null ? 0 : Math.max(0, Math.floor((opts.personal.expiresAt - now) / 1000))) : this.config.tokens.access_token_ttl;
    const accessToken = generateToken(opts.personal ? 'personal' : 'access');
    const accessRow = em.create(AccessTokenEntity, {
      id: ulid(now),
      token_hash: sha256Hex(accessToken),
      session_id: session.id,
      created_at: now,
      expires_at: opts.personal ? opts.personal.expiresAt : now + ttl * 1000,
      revoked_at: null,
      first_used_at: null,
    });
    await em.insert(AccessTokenEntity, accessRow);
    if (!opts.refresh || opts.personal) {
      await this.touchSession(em, session, now, accessRow.expires_at);
      return { accessToken, accessRow, expiresIn: ttl };
    }
    const refreshToken = generateToken('refresh');
    const refreshTtl = this.config.tokens.refresh_token_ttl;
    const refreshRow = em.create(RefreshTokenEntity, {
      id: ulid(now),
      token_hash: sha256Hex(refreshToken),
      session_id: session.id,
      access_token_id: accessRow.id,
      created_at: now,
      expires_at: refreshTtl > 0 ? now + refreshTtl * 1000 : null,
      consumed_at: null,
      next_refresh_token_id: null,
      revoked_at: null,
    });
    await em.insert(RefreshTokenEntity, refreshRow);
    await this.touchSession(em, session, now, refreshRow.expires_at);
    return { accessToken, refreshToken, accessRow, refreshRow, expiresIn: ttl };
  }

  /**
   * A new token pair is a use of the session, and moves its end: the newest token's expiry (the
   * refresh token's when there is one; null when it never expires). The lifecycle sweep ends a
   * session whose `expires_at` passed (the client never came back), so nothing is left behind.
   */
  private async touchSession(em: EntityManager, session: OAuth2SessionEntity, now: number, expiresAt: number | null): Promise<void> {
    await em.update(OAuth2SessionEntity, { id: session.id }, { last_active_at: now, expires_at: expiresAt });
    session.last_active_at = now;
    session.expires_at = expiresAt;
  }

  /** OIDC ID token (only when `openid` was granted), signed with the client's alg (RS256 by default). */
  async idToken(client: OAuthClient, claims: IdTokenClaims, accessToken: string, now = Date.now()): Promise<string> {
    const alg = client.idTokenAlg ?? 'RS256';
    const iat = Math.floor(now / 1000);
    const hash = sha256Base64Url(accessToken);
    // at_hash: left half of the SHA-256 of the access token (both algs use SHA-256).
    const atHash = Buffer.from(hash, 'base64url').subarray(0, 16).toString('base64url');
    return this.keys.sign(
      {
        iss: this.config.http.public_base,
        sub: claims.userId,
        aud: client.clientId,
        iat,
        exp: iat + this.config.tokens.id_token_ttl,
        ...(claims.authTime ? { auth_time: Math.floor(claims.authTime / 1000) } : {}),
        ...(claims.nonce ? { nonce: claims.nonce } : {}),
        ...(claims.sid ? { sid: claims.sid } : {}),
        at_hash: atHash,
      },
      { alg, typ: 'JWT' },
    );
  }

  /** Device ids of a user's live sessions (what `devices.sync` should leave on the homeserver). */
  async liveDevices(em: EntityManager, userId: string): Promise<string[]> {
    const rows = await em.find(OAuth2SessionEntity, { where: { user_id: userId, finished_at: IsNull(), device_id: Not(IsNull()) }, select: { device_id: true } });
    return [...new Set(rows.map((r) => r.device_id!))];
  }
}

/** The RFC 6749 §5.1 body. `scope` is what was granted, in the namespace the client used. */
export function tokenResponseBody(t: IssuedTokens, scope: string[], idToken?: string): Record<string, unknown> {
  return {
    access_token: t.accessToken,
    token_type: 'Bearer',
    expires_in: t.expiresIn,
    ...(t.refreshToken ? { refresh_token: t.refreshToken } : {}),
    scope: scope.join(' '),
    ...(idToken ? { id_token: idToken } : {}),
  };
}
