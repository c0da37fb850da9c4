import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { AUDIT_ACTIONS } from '../../audit/audit-event.js';
import { AuditLogRepository } from '../../storage/repositories/audit-log.repository.js';
import { MetricsService } from '../../health/metrics.service.js';
import { Database } from '../../storage/database.service.js';

/** A token (pair) handed out: by the token endpoint's grants or the compatibility layer's /login and /refresh. */
export interface IssuedTokenRecord {
  /** The grant type (`authorization_code`, `refresh_token`, …) or `compat_login` / `compat_refresh`. */
  grant: string;
  /** The OAuth client, or `compat` for a legacy client. */
  clientId: string;
  userId: string | null;
  sessionId: string;
  scope: string[];
  deviceId?: string | null;
  refresh: boolean;
  at: number;
}

/**
 * Every issuance goes into the audit trail (in the issuing transaction) and, once committed, into
 * `causeway_tokens_issued_total{grant}`.
 */
@Injectable()
export class IssuanceRecorder {
  private readonly issued: Counter<'grant'>;

  constructor(
    private readonly audit: AuditLogRepository,
    private readonly db: Database,
    metrics: MetricsService,
  ) {
    this.issued = metrics.counter('causeway_tokens_issued_total', 'Access tokens issued (with their refresh token, if any), by grant', ['grant']);
  }

  async record(em: EntityManager, t: IssuedTokenRecord): Promise<void> {
    // `urn:ietf:params:oauth:grant-type:device_code` → `device_code`.
    const grant = t.grant.split(':').pop()!;
    await this.audit.record(em, {
      action: AUDIT_ACTIONS.tokenIssued,
      actor: t.clientId === 'compat' ? (t.userId ? `user:${t.userId}` : 'anonymous') : `client:${t.clientId}`,
      target: t.sessionId,
      userId: t.userId,
      details: { grant, client_id: t.clientId, scope: t.scope, ...(t.deviceId ? { device_id: t.deviceId } : {}), refresh_token: t.refresh },
      at: t.at,
    });
    this.db.afterCommit(em, () => this.issued.inc({ grant }));
  }
}
