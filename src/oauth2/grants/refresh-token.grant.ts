import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { parseToken, sha256Hex } from '../../crypto/token-format.js';
import { Database, type Tx } from '../../storage/database.service.js';
import { OAuth2TokenRepository, type OAuth2SessionRecord } from '../../storage/repositories/oauth2-token.repository.js';
import { GRANT } from '../clients/client.js';
import { InvalidGrantError, InvalidScopeError } from '../errors.js';
import { isSubset, splitScope } from '../scopes/scope.js';
import { SessionEnder } from '../sessions/session-ender.js';
import { IntrospectionCache } from '../introspect/introspection-cache.js';
import { required } from '../token/form-params.js';
import { TokenIssuer, tokenResponseBody, type IssuedTokens } from '../token/token-issuer.js';
import type { GrantRequest, TokenGrant } from './grant.js';
import { activeUser } from './grant-users.js';
import { UserRepository } from '../../storage/repositories/user.repository.js';
import { Clock, SystemClock } from '../../clock/clock.js';
import { AuditLogRepository } from '../../storage/repositories/audit-log.repository.js';
import { AUDIT_ACTIONS } from '../../audit/audit-event.js';

type Outcome =
  | { kind: 'issued'; tokens: IssuedTokens; session: OAuth2SessionRecord; revokedHashes: string[] }
  | { kind: 'reused' }
  /** The refresh token expired, or the session sat idle past `sessions.inactive_after`: the session ended now. */
  | { kind: 'ended'; why: string }
  | { kind: 'refused'; why: string }
  | { kind: 'scope'; why: string };

/**
 * RFC 6749 §6 with rotation (docs/contracts/matrix-clients.md §5.3):
 * - every refresh returns a new refresh and access token; the previous access token is revoked;
 * - a refresh token already rotated may be used again while its successor pair is unused (the
 *   response was lost): the unused successor is revoked and a fresh pair issued;
 * - once the successor was used, presenting the old token again is a replay: invalid_grant, and
 *   the whole session ends (its device leaves the homeserver through the outbox).
 * `scope` may only repeat or narrow the granted scope; the granted scope is returned.
 */
@Injectable()
export class RefreshTokenGrant implements TokenGrant {
  readonly type = GRANT.refreshToken;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly issuer: TokenIssuer,
    private readonly ender: SessionEnder,
    private readonly cache: IntrospectionCache,
    private readonly audit: AuditLogRepository,
    private readonly users: UserRepository,
    private readonly tokens: OAuth2TokenRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  async exchange({ client, params, ip }: GrantRequest): Promise<Record<string, unknown>> {
    const presented = required(params, 'refresh_token');
    if (parseToken(presented) !== 'refresh') throw new InvalidGrantError('unknown refresh token');
    const now = this.clock.now();

    const outcome = await this.db.transaction<Outcome>(async (em) => {
      let row = await this.tokens.refreshTokenByHash(em, sha256Hex(presented));
      if (!row) return { kind: 'refused', why: 'unknown refresh token' };
      const session = await this.tokens.findSession(em, row.sessionId);
      if (!session || session.finishedAt !== null) return { kind: 'refused', why: 'the session has ended' };
      if (session.clientId !== client.clientId) return { kind: 'refused', why: 'the refresh token was issued to another client' };
      if (row.revokedAt !== null) return { kind: 'refused', why: 'the refresh token was revoked' };
      // A dead session is ended (device removed at the homeserver) rather than left behind.
      if (row.expiresAt !== null && row.expiresAt <= now) {
        await this.ender.end(em, [session.id], 'expired', `client:${client.clientId}`, now);
        return { kind: 'ended', why: 'the refresh token has expired; the session has ended' };
      }
      const idleMs = this.config.sessions.inactive_after * 1000;
      if (idleMs > 0 && now - (session.lastActiveAt ?? session.createdAt) >= idleMs) {
        await this.ender.end(em, [session.id], 'inactive', `client:${client.clientId}`, now);
        return { kind: 'ended', why: 'the session was inactive for too long and has ended' };
      }
      if (!session.userId || !(await activeUser(this.users, em, session.userId))) return { kind: 'refused', why: 'the account can no longer sign in' };
      if (params.scope !== undefined) {
        let requested: string[];
        try {
          requested = splitScope(params.scope);
        } catch (e) {
          return { kind: 'scope', why: (e as Error).message };
        }
        if (!isSubset(requested, session.scope.split(' '))) return { kind: 'scope', why: 'a refresh cannot widen the granted scope' };
      }

      const revokedHashes: string[] = [];
      if (row.consumedAt === null) {
        if (await this.tokens.consumeRefreshToken(em, row.id, now)) {
          revokedHashes.push(...(await this.revokeAccessToken(em, row.accessTokenId, now)));
        } else {
          // A concurrent refresh with the same token won: continue as a retry of it.
          row = (await this.tokens.refreshToken(em, row.id))!;
        }
      }
      if (row.nextRefreshTokenId !== null) {
        const next = await this.tokens.refreshToken(em, row.nextRefreshTokenId);
        const nextAccess = next ? await this.tokens.accessToken(em, next.accessTokenId) : undefined;
        const successorUnused = next && next.consumedAt === null && next.revokedAt === null && nextAccess && nextAccess.firstUsedAt === null;
        if (!successorUnused) {
          await this.ender.end(em, [session.id], 'refresh_reuse', `client:${client.clientId}`, now);
          await this.audit.record(em, {
            action: AUDIT_ACTIONS.refreshTokenReused,
            actor: `client:${client.clientId}`,
            target: session.id,
            userId: session.userId,
            details: { client_id: client.clientId, device_id: session.deviceId, session_ended: true },
            at: now,
          });
          return { kind: 'reused' };
        }
        // The client never got (or never used) the successor: replace it.
        await this.tokens.revokeRefreshToken(em, next.id, now);
        revokedHashes.push(...(await this.revokeAccessToken(em, next.accessTokenId, now)));
      }
      const tokens = await this.issuer.issue(em, session, { refresh: true, grant: this.type }, now);
      await this.tokens.linkSuccessor(em, row.id, tokens.refreshRow!.id);
      await this.tokens.touchSession(em, session.id, { at: now, ip: ip?.slice(0, 64) ?? null });
      return { kind: 'issued', tokens, session, revokedHashes };
    });

    switch (outcome.kind) {
      case 'reused':
        this.ender.committed();
        throw new InvalidGrantError('the refresh token was already used; the session has been ended');
      case 'ended':
        this.ender.committed();
        throw new InvalidGrantError(outcome.why);
      case 'refused':
        throw new InvalidGrantError(outcome.why);
      case 'scope':
        throw new InvalidScopeError(outcome.why);
      case 'issued':
        break;
    }
    this.cache.invalidateTokens(outcome.revokedHashes);
    return tokenResponseBody(outcome.tokens, outcome.session.scope.split(' '));
  }

  private async revokeAccessToken(tx: Tx, id: string, now: number): Promise<string[]> {
    const hash = await this.tokens.revokeAccessToken(tx, id, now);
    return hash ? [hash] : [];
  }
}
