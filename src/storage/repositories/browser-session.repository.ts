import { In, IsNull } from 'typeorm';
import type { Database, Tx } from '../database.service.js';
import { BrowserSessionEntity, UpstreamSessionEntity } from '../entities/index.js';

/** A user signed in at Causeway in one browser (identity's `BrowserSession`). */
export interface BrowserSessionRecord {
  id: string;
  userId: string;
  providerId: string;
  upstreamSessionId: string | null;
  createdAt: number;
  authenticatedAt: number;
  lastActiveAt: number | null;
  finishedAt: number | null;
  userAgent: string | null;
}

/** One sign-in at an upstream IdP (identity's `UpstreamSession`). */
export interface UpstreamSessionRecord {
  id: string;
  providerId: string;
  subject: string;
  userId: string;
  upstreamSid: string | null;
  details: Record<string, unknown> | null;
  browserSessionId: string | null;
  createdAt: number;
  endedAt: number | null;
}

const toBrowser = (e: BrowserSessionEntity): BrowserSessionRecord => ({
  id: e.id,
  userId: e.user_id,
  providerId: e.provider_id,
  upstreamSessionId: e.upstream_session_id,
  createdAt: e.created_at,
  authenticatedAt: e.authenticated_at,
  lastActiveAt: e.last_active_at,
  finishedAt: e.finished_at,
  userAgent: e.user_agent,
});

const toUpstream = (e: UpstreamSessionEntity): UpstreamSessionRecord => ({
  id: e.id,
  providerId: e.provider_id,
  subject: e.subject,
  userId: e.user_id,
  upstreamSid: e.upstream_sid,
  details: e.details,
  browserSessionId: e.browser_session_id,
  createdAt: e.created_at,
  endedAt: e.ended_at,
});

/**
 * Browser sessions and the upstream sessions they were born from (one aggregate: an upstream
 * session is written with its browser session and deleted with it).
 */
export class BrowserSessionRepository {
  constructor(private readonly db: Database) {}

  /** One transaction: the browser session, then the upstream session naming it (its foreign key). */
  async insert(b: BrowserSessionRecord & { lastActiveIp: string | null }, upstream?: Omit<UpstreamSessionRecord, 'browserSessionId' | 'endedAt'>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.insert(BrowserSessionEntity, {
        id: b.id,
        user_id: b.userId,
        provider_id: b.providerId,
        upstream_session_id: b.upstreamSessionId,
        created_at: b.createdAt,
        authenticated_at: b.authenticatedAt,
        last_active_at: b.lastActiveAt,
        finished_at: b.finishedAt,
        user_agent: b.userAgent,
        last_active_ip: b.lastActiveIp,
      });
      if (upstream) {
        await tx.insert(UpstreamSessionEntity, {
          id: upstream.id,
          provider_id: upstream.providerId,
          subject: upstream.subject,
          user_id: upstream.userId,
          upstream_sid: upstream.upstreamSid,
          details: upstream.details as never,
          browser_session_id: b.id,
          created_at: upstream.createdAt,
          ended_at: null,
        });
      }
    });
  }

  async find(id: string): Promise<BrowserSessionRecord | undefined> {
    const e = await this.db.manager.findOneBy(BrowserSessionEntity, { id });
    return e ? toBrowser(e) : undefined;
  }

  /**
   * Inside the caller's transaction. On PostgreSQL the row is locked (FOR SHARE) for the rest of it,
   * so a sign-out racing the caller either committed first (and is seen) or waits for it.
   */
  async findLocked(tx: Tx, id: string): Promise<BrowserSessionRecord | undefined> {
    const e = await tx.findOne(BrowserSessionEntity, { where: { id }, ...(this.db.kind === 'postgres' ? { lock: { mode: 'pessimistic_read' as const } } : {}) });
    return e ? toBrowser(e) : undefined;
  }

  /** The user's unfinished browser sessions, newest first. */
  async unfinishedOf(userId: string): Promise<BrowserSessionRecord[]> {
    return (await this.db.manager.find(BrowserSessionEntity, { where: { user_id: userId, finished_at: IsNull() }, order: { created_at: 'DESC' } })).map(toBrowser);
  }

  /** Records a use of an unfinished session. */
  async touch(id: string, at: number): Promise<void> {
    await this.db.transaction((tx) => tx.update(BrowserSessionEntity, { id, finished_at: IsNull() }, { last_active_at: at }));
  }

  /** Unfinished sessions whose `column` is before `cutoff` (the lifecycle sweep's dry run). */
  async countUnfinishedBefore(column: 'created_at' | 'last_active_at', cutoff: number): Promise<number> {
    const sql = `SELECT count(*) AS n FROM browser_sessions WHERE finished_at IS NULL AND ${column} < $1`;
    const [row] = (await this.db.manager.query(this.db.kind === 'postgres' ? sql : sql.replace(/\$\d+/g, '?'), [cutoff])) as { n: string }[];
    return Number(row?.n ?? 0);
  }

  /**
   * Finishes at most `limit` unfinished sessions whose `column` is before `cutoff`, as of `column +
   * lifetime` (the moment they became unusable). Returns how many, and how long the statement took.
   */
  async finishBatch(column: 'created_at' | 'last_active_at', lifetime: number, cutoff: number, limit: number): Promise<{ n: number; ms: number }> {
    const text = `UPDATE browser_sessions SET finished_at = ${column} + $1 WHERE id IN (SELECT id FROM browser_sessions WHERE finished_at IS NULL AND ${column} < $2 ORDER BY ${column} LIMIT $3) RETURNING id`;
    const update = this.db.kind === 'postgres' ? text : text.replace(/\$\d+/g, '?');
    return this.db.transaction(async (tx) => {
      const started = performance.now();
      const rows = (await tx.queryRunner!.query(update, [lifetime, cutoff, limit], true)).records as unknown[];
      return { n: rows.length, ms: performance.now() - started };
    });
  }

  /** Finishes one unfinished session, in the caller's transaction. */
  async finish(tx: Tx, id: string, at: number): Promise<void> {
    await tx.update(BrowserSessionEntity, { id, finished_at: IsNull() }, { finished_at: at });
  }

  /** Finishes every unfinished session of the user. */
  async finishAllOf(tx: Tx, userId: string, at: number): Promise<void> {
    await tx.update(BrowserSessionEntity, { user_id: userId, finished_at: IsNull() }, { finished_at: at });
  }

  /** Finishes those of `ids` still unfinished; how many. */
  async finishMany(tx: Tx, ids: string[], at: number): Promise<number> {
    return (await tx.update(BrowserSessionEntity, { id: In(ids), finished_at: IsNull() }, { finished_at: at })).affected ?? 0;
  }

  /** Ids of the browser sessions born from these upstream sessions. */
  async idsFromUpstream(tx: Tx, upstreamSessionIds: string[]): Promise<string[]> {
    return (await tx.find(BrowserSessionEntity, { where: { upstream_session_id: In(upstreamSessionIds) }, select: { id: true } })).map((b) => b.id);
  }

  /**
   * A provider's upstream sessions not yet ended, matching the IdP's session id and/or subject (both
   * given: both must match).
   */
  async liveUpstreamSessions(tx: Tx, providerId: string, match: { upstreamSid?: string | null; subject?: string | null }): Promise<UpstreamSessionRecord[]> {
    const where = {
      provider_id: providerId,
      ended_at: IsNull(),
      ...(match.upstreamSid ? { upstream_sid: match.upstreamSid } : {}),
      ...(match.subject ? { subject: match.subject } : {}),
    };
    return (await tx.find(UpstreamSessionEntity, { where })).map(toUpstream);
  }

  async endUpstreamSessions(tx: Tx, ids: string[], at: number): Promise<void> {
    await tx.update(UpstreamSessionEntity, { id: In(ids) }, { ended_at: at });
  }

  async upstreamSession(id: string): Promise<UpstreamSessionRecord | undefined> {
    const e = await this.db.manager.findOneBy(UpstreamSessionEntity, { id });
    return e ? toUpstream(e) : undefined;
  }
}
