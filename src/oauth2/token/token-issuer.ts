import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { generateToken, sha256Base64Url, sha256Hex } from '../../crypto/token-format.js';
import { KeyStore } from '../../crypto/key-store.js';
import type { Tx } from '../../storage/database.service.js';
import { DeviceSessionRepository } from '../../storage/repositories/device-session.repository.js';
import { OAuth2TokenRepository, type AccessTokenRecord, type OAuth2SessionRecord, type RefreshTokenRecord } from '../../storage/repositories/oauth2-token.repository.js';
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
  accessRow: AccessTokenRecord;
  refreshRow?: RefreshTokenRecord;
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
    private readonly tokens: OAuth2TokenRepository,
    private readonly deviceSessions: DeviceSessionRepository,
  ) {}

  /**
   * A new session. A user signing in again on a device id they already use ends the older
   * sessions on it (OAuth, or a legacy client's compat session) in the same transaction (SPEC
   * §Relationship between access tokens and devices), and so do the user's oldest sessions beyond
   * `sessions.max_per_user`; the caller calls `ender.committed()` after commit when `replaced` > 0.
   */
  async startSession(tx: Tx, s: NewSession, now = Date.now()): Promise<{ session: OAuth2SessionRecord; replaced: number }> {
    let replaced = 0;
    if (s.userId && s.deviceId) {
      replaced = await this.ender.endSessions(tx, await this.deviceSessions.liveOnDevice(tx, s.userId, s.deviceId), 'replaced_device', 'system', now);
    }
    if (s.userId && INTERACTIVE_GRANTS.includes(s.grantType)) replaced += await this.limit.makeRoom(tx, s.userId, 'oauth', now);
    const session: OAuth2SessionRecord = {
      id: ulid(now),
      userId: s.userId,
      clientId: s.clientId,
      deviceId: s.deviceId ?? null,
      scope: s.scope.join(' '),
      grantType: s.grantType,
      browserSessionId: s.browserSessionId ?? null,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: null,
      finishedAt: null,
      finishReason: null,
      humanName: s.humanName ?? null,
      lastActiveIp: s.ip?.slice(0, 64) ?? null,
    };
    await this.tokens.insertSession(tx, session);
    return { session, replaced };
  }

  /**
   * An access token (and a refresh token when asked), recorded as issued by `opts.grant` (audit
   * trail, causeway_tokens_issued_total). `personal`: a personal access token (`mpt_`) with its own
   * expiry (null: never), never with a refresh token.
   */
  async issue(tx: Tx, session: OAuth2SessionRecord, opts: { refresh: boolean; grant: string; personal?: { expiresAt: number | null } }, now = Date.now()): Promise<IssuedTokens> {
    await this.recorder.record(tx, {
      grant: opts.grant,
      clientId: session.clientId,
      userId: session.userId,
      sessionId: session.id,
      scope: session.scope.split(' '),
      deviceId: session.deviceId,
      refresh: opts.refresh,
      at: now,
    });
    const ttl = opts.personal ? (opts.personal.expiresAt === null ? 0 : Math.max(0, Math.floor((opts.personal.expiresAt - now) / 1000))) : this.config.tokens.access_token_ttl;
    const accessToken = generateToken(opts.personal ? 'personal' : 'access');
    const accessRow: AccessTokenRecord = {
      id: ulid(now),
      tokenHash: sha256Hex(accessToken),
      sessionId: session.id,
      createdAt: now,
      expiresAt: opts.personal ? opts.personal.expiresAt : now + ttl * 1000,
      revokedAt: null,
      firstUsedAt: null,
    };
    await this.tokens.insertAccessToken(tx, accessRow);
    if (!opts.refresh || opts.personal) {
      await this.touchSession(tx, session, now, accessRow.expiresAt);
      return { accessToken, accessRow, expiresIn: ttl };
    }
    const refreshToken = generateToken('refresh');
    const refreshTtl = this.config.tokens.refresh_token_ttl;
    const refreshRow: RefreshTokenRecord = {
      id: ulid(now),
      tokenHash: sha256Hex(refreshToken),
      sessionId: session.id,
      accessTokenId: accessRow.id,
      createdAt: now,
      expiresAt: refreshTtl > 0 ? now + refreshTtl * 1000 : null,
      consumedAt: null,
      nextRefreshTokenId: null,
      revokedAt: null,
    };
    await this.tokens.insertRefreshToken(tx, refreshRow);
    await this.touchSession(tx, session, now, refreshRow.expiresAt);
    return { accessToken, refreshToken, accessRow, refreshRow, expiresIn: ttl };
  }

  /**
   * A new token pair is a use of the session, and moves its end: the newest token's expiry (the
   * refresh token's when there is one; null when it never expires). The lifecycle sweep ends a
   * session whose `expires_at` passed (the client never came back), so nothing is left behind.
   */
  private async touchSession(tx: Tx, session: OAuth2SessionRecord, now: number, expiresAt: number | null): Promise<void> {
    await this.tokens.touchSession(tx, session.id, { at: now, expiresAt });
    session.lastActiveAt = now;
    session.expiresAt = expiresAt;
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
