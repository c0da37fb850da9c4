import type { EntityManager } from 'typeorm';
import { Database, type HotStatement } from '../database.service.js';
import { AuditLogEntity } from '../entities/index.js';
import { ulid } from '../ulid.js';
import { toPage, type Page, type PageRequest } from './page.js';

/**
 * Who did something, as the audit log records it: `admin-token` (the static admin token),
 * `user:<id>` (an admin's OAuth token), `client:<client_id>` (client_credentials), `cli:<os user>`
 * (`causeway manage`), `system`, `upstream:<provider>`.
 */
export type Actor = string;

export interface AuditEntry {
  actor: Actor;
  /** Dotted, e.g. `user.lock`, `upstream_link.remove`. */
  action: string;
  /** What was acted on (a user, session, link, client id). */
  target?: string | null;
  /** The user concerned, when there is one (queries by user). */
  userId?: string | null;
  /** Never secrets. */
  details?: Record<string, unknown> | null;
  at?: number;
}

export interface AuditRecord {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  userId: string | null;
  details: Record<string, unknown> | null;
  createdAt: number;
}

export interface AuditFilter {
  userId?: string;
  actor?: string;
  action?: string;
  /** Inclusive, ms. */
  since?: number;
  /** Exclusive, ms. */
  until?: number;
}

const toRecord = (e: AuditLogEntity): AuditRecord => ({
  id: e.id,
  actor: e.actor,
  action: e.action,
  target: e.target,
  userId: e.user_id,
  details: e.details,
  createdAt: Number(e.created_at),
});

/** `details` is a simple-json column: JSON text, or NULL. */
const INSERT = {
  name: 'causeway_audit_insert',
  postgres: 'INSERT INTO audit_log (id, actor, action, target, user_id, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
  sqlite: 'INSERT INTO audit_log (id, actor, action, target, user_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
} satisfies HotStatement;

const insertValues = (r: AuditRecord) => [r.id, r.actor, r.action, r.target, r.userId, r.details === null ? null : JSON.stringify(r.details), r.createdAt];

/** Where an audited action came from: the HTTP request being handled, if any. */
export interface AuditOrigin {
  ip: string;
  userAgent?: string;
  requestId: string;
}

/**
 * The audit_log table: the one write path for audit rows written through TypeORM (the session-end
 * hot paths write theirs in their own statements, session-end/session-end.*.ts) and the
 * queries of the admin API. `origin` tells which HTTP request is being handled: its client
 * address, user agent and request id are added to every row's details.
 */
export class AuditLogRepository {
  private readonly listeners: ((r: AuditRecord) => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly origin: () => AuditOrigin | undefined = () => undefined,
  ) {}

  /** Inside the caller's transaction, so the row commits with the change it describes. */
  async record(em: EntityManager, e: AuditEntry): Promise<AuditRecord> {
    const rec = this.row(e);
    await em.query(this.db.kind === 'postgres' ? INSERT.postgres : INSERT.sqlite, insertValues(rec));
    if (this.listeners.length) this.db.afterCommit(em, () => this.tell(rec));
    return rec;
  }

  /**
   * On its own (an action whose change committed elsewhere, or that changed nothing): one INSERT,
   * atomic by itself, as a hot statement (no transaction around it).
   */
  async recordNow(e: AuditEntry): Promise<AuditRecord> {
    const rec = this.row(e);
    await this.db.hot(INSERT, insertValues(rec));
    this.tell(rec);
    return rec;
  }

  private row(e: AuditEntry): AuditRecord {
    const at = e.at ?? Date.now();
    const from = this.origin();
    const details = from ? { ...e.details, ip: from.ip, ...(from.userAgent ? { user_agent: from.userAgent } : {}), request_id: from.requestId } : (e.details ?? null);
    return { id: ulid(at), actor: e.actor.slice(0, 128), action: e.action, target: e.target?.slice(0, 255) ?? null, userId: e.userId ?? null, details, createdAt: at };
  }

  private tell(rec: AuditRecord): void {
    this.listeners.forEach((l) => l(rec));
  }

  /** Called for each row recorded through this repository (the audit stream), once its transaction has committed. */
  onRecord(listener: (r: AuditRecord) => void): void {
    this.listeners.push(listener);
  }

  async query(f: AuditFilter, page: PageRequest, order: 'asc' | 'desc' = 'asc'): Promise<Page<AuditRecord>> {
    const q = this.db.manager.createQueryBuilder(AuditLogEntity, 'a');
    if (f.userId) q.andWhere('a.user_id = :userId', { userId: f.userId });
    if (f.actor) q.andWhere('a.actor = :actor', { actor: f.actor });
    if (f.action) q.andWhere('a.action = :action', { action: f.action });
    if (f.since !== undefined) q.andWhere('a.created_at >= :since', { since: f.since });
    if (f.until !== undefined) q.andWhere('a.created_at < :until', { until: f.until });
    if (page.after) q.andWhere(order === 'asc' ? 'a.id > :after' : 'a.id < :after', { after: page.after });
    const rows = await q
      .orderBy('a.id', order === 'asc' ? 'ASC' : 'DESC')
      .take(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit, (r) => r.id, toRecord);
  }
}
