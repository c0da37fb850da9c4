import { IssuanceRecorder } from '../oauth2/token/issuance-recorder.js';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { generateToken, parseToken, randomAlphanumeric, sha256Hex } from '../crypto/token-format.js';
import { HomeserverAdapter } from '../homeserver/homeserver.adapter.js';
import { withHomeserverRetries } from '../homeserver/with-retries.js';
import { LOGGER } from '../http/logger.module.js';
import { IntrospectionCache } from '../oauth2/introspect/introspection-cache.js';
import { SessionTerminator } from '../oauth2/oauth2.contracts.js';
import { SessionEnder } from '../oauth2/sessions/session-ender.js';
import { Database, type Tx } from '../storage/database.service.js';
import { BrowserSessionRepository } from '../storage/repositories/browser-session.repository.js';
import { CompatSessionRepository } from '../storage/repositories/compat-session.repository.js';
import { DeviceSessionRepository } from '../storage/repositories/device-session.repository.js';
import { UserRepository } from '../storage/repositories/user.repository.js';
import { ulid } from '../storage/ulid.js';
import { CompatErrors } from './compat-errors.js';
import type { LoginTokenGrant } from './login-tokens.js';
import { SessionLimit } from '../oauth2/sessions/session-limit.js';
import { Clock, SystemClock } from '../clock/clock.js';

/** Generated device ids: 10 alphanumerics, as MAS and the SDKs generate them. */
const GENERATED_DEVICE_ID_LENGTH = 10;

export interface CompatLoginResult {
  access_token: string;
  device_id: string;
  user_id: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

export interface CompatRefreshResult {
  access_token: string;
  refresh_token: string;
  expires_in_ms: number;
}

/** The live session a compat access token belongs to. */
export interface CompatSessionRef {
  sessionId: string;
  userId: string;
}

interface NewTokens {
  id: string;
  accessToken: string;
  refreshToken?: string;
}

/**
 * Compatibility sessions (MSC3824 `/login`): created by exchanging a login token, refreshed with
 * rotation, found by their access token for `/logout`. Ending them is SessionTerminator's (the
 * OAuth module's), which ends OAuth and compat sessions alike.
 */
@Injectable()
export class CompatSessions {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly db: Database,
    private readonly ender: SessionEnder,
    private readonly terminator: SessionTerminator,
    private readonly cache: IntrospectionCache,
    private readonly homeserver: HomeserverAdapter,
    private readonly issuance: IssuanceRecorder,
    private readonly limit: SessionLimit,
    private readonly repo: CompatSessionRepository,
    private readonly users: UserRepository,
    private readonly browsers: BrowserSessionRepository,
    private readonly devices: DeviceSessionRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  private mxid(localpart: string): string {
    return `@${localpart}:${this.config.matrix.homeserver}`;
  }

  /**
   * `m.login.token`: a new session on the requested device (older sessions of this user on it, OAuth
   * or compat, end in the same transaction) or on a generated one; then the device is created on
   * the homeserver before the token is handed out. If the homeserver refuses, the session ends
   * again (a device sync is queued) and the client gets 500 M_UNKNOWN, as MAS does.
   */
  async login(grant: LoginTokenGrant, req: { deviceId?: string; displayName?: string; refreshToken: boolean; ip?: string }, now = this.clock.now()): Promise<CompatLoginResult> {
    const user = await this.users.findById(grant.userId);
    const browser = await this.browsers.find(grant.browserSessionId);
    // A deactivated account is told so; a locked one gets M_USER_LOCKED (locking also ends its browser sessions).
    if (!user || user.deactivatedAt !== null) throw CompatErrors.userDeactivated();
    if (user.lockedAt !== null) throw CompatErrors.userLocked();
    // The browser session the SSO login happened in was signed out meanwhile (upstream logout, sign-out).
    if (!browser || browser.finishedAt !== null) throw CompatErrors.invalidLoginToken();

    const deviceId = req.deviceId ?? randomAlphanumeric(GENERATED_DEVICE_ID_LENGTH);
    const { session, tokens, replaced } = await this.db.transaction(async (em) => {
      const replaced = (await this.endSessionsOnDevice(em, user.id, deviceId, now)) + (await this.limit.makeRoom(em, user.id, 'compat', now));
      const session = {
        id: ulid(now),
        userId: user.id,
        deviceId,
        humanName: req.displayName ?? null,
        browserSessionId: browser.id,
        redirectHost: grant.redirectHost.slice(0, 255),
        createdAt: now,
        lastActiveAt: now,
        lastActiveIp: req.ip?.slice(0, 64) ?? null,
      };
      await this.repo.insertSession(em, session);
      const tokens = await this.issue(em, session.id, req.refreshToken, now);
      await this.issuance.record(em, { grant: 'compat_login', clientId: 'compat', userId: user.id, sessionId: session.id, scope: [], deviceId, refresh: req.refreshToken, at: now });
      return { session, tokens, replaced };
    });
    if (replaced) this.ender.committed();

    try {
      await withHomeserverRetries(() => this.homeserver.upsertDevice(user.localpart, deviceId, req.displayName), {
        onRetry: (err, attempt) => this.logger.warn({ err, attempt, localpart: user.localpart }, 'upsert_device failed; retrying'),
      });
    } catch (err) {
      this.logger.error({ err, localpart: user.localpart, session: session.id }, 'homeserver refused the device of a compat login; session ended');
      await this.terminator.endCompatSession(session.id, 'revoked');
      throw CompatErrors.internal();
    }
    return {
      access_token: tokens.accessToken,
      device_id: deviceId,
      user_id: this.mxid(user.localpart),
      ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken, expires_in_ms: this.config.compat.token_ttl * 1000 } : {}),
    };
  }

  /**
   * `/refresh`: the refresh token is consumed and replaced, its access token expires at once. An
   * unknown, used or revoked token, or one of an ended session or of an account that may no longer
   * sign in, is refused.
   */
  async refresh(refreshToken: string, now = this.clock.now(), ip?: string): Promise<CompatRefreshResult> {
    if (parseToken(refreshToken) !== 'compat_refresh') throw CompatErrors.invalidRefreshToken();
    const outcome = await this.db.transaction(async (em) => {
      const old = await this.repo.tokenByRefreshHash(em, sha256Hex(refreshToken));
      if (!old || old.refreshConsumedAt !== null || old.revokedAt !== null) return undefined;
      const session = await this.repo.liveSession(old.sessionId, em);
      const user = session ? await this.users.findById(session.userId, em) : undefined;
      if (!session || !user || user.lockedAt !== null || user.deactivatedAt !== null) return undefined;
      const next = await this.issue(em, session.id, true, now);
      const expiresAt = old.expiresAt === null ? now : Math.min(old.expiresAt, now);
      // Conditional: of two concurrent refreshes with one token, only one consumes it.
      if (!(await this.repo.consumeRefresh(em, old.id, next.id, now, expiresAt))) throw CompatErrors.invalidRefreshToken();
      await this.repo.touch(em, session.id, now, ip?.slice(0, 64) ?? null);
      await this.issuance.record(em, { grant: 'compat_refresh', clientId: 'compat', userId: user.id, sessionId: session.id, scope: [], deviceId: session.deviceId, refresh: true, at: now });
      return { next, oldAccessHash: old.accessTokenHash };
    });
    if (!outcome) throw CompatErrors.invalidRefreshToken();
    this.cache.invalidateTokens([outcome.oldAccessHash]);
    return { access_token: outcome.next.accessToken, refresh_token: outcome.next.refreshToken!, expires_in_ms: this.config.compat.token_ttl * 1000 };
  }

  /**
   * The live session of a compat access token (`/logout`, `/logout/all`), or undefined for anything
   * else: another kind of token (OAuth `mat_` included), unknown, revoked, expired, or of an ended
   * session. `activeUser`: also refuse a locked or deactivated account (`/logout/all`, as MAS).
   */
  async findByAccessToken(accessToken: string, opts: { activeUser?: boolean } = {}, now = this.clock.now()): Promise<CompatSessionRef | undefined> {
    if (parseToken(accessToken) !== 'compat_access') return undefined;
    const token = await this.repo.tokenByAccessHash(sha256Hex(accessToken));
    if (!token || token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now)) return undefined;
    const session = await this.repo.liveSession(token.sessionId);
    if (!session) return undefined;
    const user = await this.users.findById(session.userId);
    if (!user) return undefined;
    if (opts.activeUser && (user.lockedAt !== null || user.deactivatedAt !== null)) return undefined;
    return { sessionId: session.id, userId: user.id };
  }

  /** A new token pair row: the access token expires only when it comes with a refresh token. */
  private async issue(em: Tx, sessionId: string, refreshable: boolean, now: number): Promise<NewTokens> {
    const accessToken = generateToken('compat_access');
    const refreshToken = refreshable ? generateToken('compat_refresh') : undefined;
    const id = ulid(now);
    await this.repo.insertToken(em, {
      id,
      sessionId,
      accessTokenHash: sha256Hex(accessToken),
      refreshTokenHash: refreshToken ? sha256Hex(refreshToken) : null,
      createdAt: now,
      expiresAt: refreshable ? now + this.config.compat.token_ttl * 1000 : null,
    });
    return { id, accessToken, ...(refreshToken ? { refreshToken } : {}) };
  }

  /** Reusing a device id signs out whatever session (OAuth or compat) this user had on it. */
  private async endSessionsOnDevice(em: Tx, userId: string, deviceId: string, now: number): Promise<number> {
    const { oauth, compat } = await this.devices.liveOnDevice(em, userId, deviceId);
    if (!oauth.length && !compat.length) return 0;
    return this.ender.endSessions(em, { oauth, compat }, 'replaced_device', 'system', now);
  }
}
