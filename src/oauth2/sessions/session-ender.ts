import { Injectable } from '@nestjs/common';
import { Outbox } from '../../events/outbox.js';
import { Database, type Tx } from '../../storage/database.service.js';
import { GroupCommitter } from '../../storage/group-commit.js';
import { SessionEndRepository, type TokenHashes } from '../../storage/repositories/session-end/session-end.repository.js';
import type { EndReason } from '../oauth2.contracts.js';
import { IntrospectionCache } from '../introspect/introspection-cache.js';
import { Clock, SystemClock } from '../../clock/clock.js';

/** Sessions to end, by kind: OAuth 2.0 sessions and compatibility (`/login`) sessions. */
export interface SessionIds {
  oauth?: string[];
  compat?: string[];
}

/** A live token to revoke, by kind and SHA-256 hash. */
export interface TokenToRevoke {
  kind: 'access' | 'refresh' | 'compat_access' | 'compat_refresh';
  hash: string;
}

const HASH_LIST = { access: 'access', refresh: 'refresh', compat_access: 'compatAccess', compat_refresh: 'compatRefresh' } as const satisfies Record<TokenToRevoke['kind'], keyof TokenHashes>;
/** Revocations sharing one statement at most, and statements in flight at once (PostgreSQL). */
const REVOKE_BATCH = 64;
const REVOKE_IN_FLIGHT = 4;

/**
 * Ends sessions: marks them finished, revokes their tokens, writes one `devices.sync` outbox row per
 * user (the homeserver then drops the devices no live session holds, OAuth or compat) and an audit
 * row per session, all in one transaction (storage's SessionEndRepository: one statement on
 * PostgreSQL, synchronous prepared statements on SQLite).
 *
 * `endSessions` runs inside the caller's transaction (one of `Database.transaction`): once it
 * commits, exactly the revoked tokens leave every replica's introspection cache (other users'
 * answers stay cached), and the caller calls `committed()` to wake the relay. `revokeToken` is the
 * hot path of RFC 7009 revocation: revocations arriving together are group-committed.
 */
@Injectable()
export class SessionEnder {
  private readonly revocations: GroupCommitter<TokenToRevoke, boolean>;

  constructor(
    private readonly db: Database,
    private readonly ends: SessionEndRepository,
    private readonly outbox: Outbox,
    private readonly cache: IntrospectionCache,
    private readonly clock: Clock = new SystemClock(),
  ) {
    this.revocations = new GroupCommitter((tokens) => this.revokeBatch(tokens), {
      maxBatch: REVOKE_BATCH,
      maxInFlight: ends.writesInParallel ? REVOKE_IN_FLIGHT : 1,
    });
  }

  /** Ends the given unfinished OAuth sessions; returns how many were ended. */
  end(em: Tx, sessionIds: string[], reason: EndReason, actor = 'system', now = this.clock.now()): Promise<number> {
    return this.endSessions(em, { oauth: sessionIds }, reason, actor, now);
  }

  /** Ends the given unfinished sessions of both kinds; returns how many were ended. */
  async endSessions(em: Tx, ids: SessionIds, reason: EndReason, actor = 'system', now = this.clock.now()): Promise<number> {
    const oauth = [...new Set(ids.oauth ?? [])];
    const compat = [...new Set(ids.compat ?? [])];
    if (!oauth.length && !compat.length) return 0;
    const result = await this.ends.end(em, { oauth, compat }, reason, actor, now);
    // Not before the commit: a lookup in between would read the tokens still live and cache them.
    if (result.hashes.length) this.db.afterCommit(em, () => this.cache.invalidateTokens(result.hashes));
    return result.ended;
  }

  /** Call once the transaction that ended sessions has committed: wakes the outbox relay. */
  committed(): void {
    this.outbox.notify();
  }

  /**
   * Ends the session of each live token (revocation): resolves whether that token's session was
   * ended by this call. Commits by itself; the revoked tokens leave every introspection cache.
   */
  revokeToken(token: TokenToRevoke): Promise<boolean> {
    return this.revocations.submit(token);
  }

  private async revokeBatch(tokens: TokenToRevoke[]): Promise<boolean[]> {
    const now = this.clock.now();
    const t: TokenHashes = { access: [], refresh: [], compatAccess: [], compatRefresh: [] };
    for (const { kind, hash } of tokens) t[HASH_LIST[kind]].push(hash);
    const result = await this.ends.endByTokens(t, 'revoked', 'system', now);
    if (result.ended) {
      this.cache.invalidateTokens(result.hashes);
      this.outbox.notify();
    }
    // A live token whose session this call ended is among the tokens it revoked.
    const revoked = new Set(result.hashes);
    return tokens.map((tok) => revoked.has(tok.hash));
  }
}
