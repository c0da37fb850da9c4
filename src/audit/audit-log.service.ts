import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LOGGER } from '../http/logger.module.js';
import { currentRequest } from '../http/request-context.js';
import { Database } from '../storage/database.service.js';
import { AuditLogEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';
import type { AuditEvent, AuditRecord } from './audit-event.js';
import { openAuditStream, type AuditStream } from './audit-stream.js';

/**
 * The one place audit events are written: a row in `audit_log` (inside the caller's transaction
 * when given one) and, once that commits, a JSON line on the audit stream if configured. The
 * client address, user agent and request id come from the HTTP request being handled.
 */
@Injectable()
export class AuditLog implements OnApplicationShutdown {
  private readonly stream: AuditStream;

  constructor(
    private readonly db: Database,
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.stream = openAuditStream(config.audit, logger);
  }

  /** Writes one event; with `em`, as part of that transaction (the stream line follows its commit). */
  async record(event: AuditEvent, em?: EntityManager): Promise<void> {
    const now = event.at ?? Date.now();
    const record = toRecord(event, ulid(now), now);
    const row = {
      id: record.id,
      actor: record.actor.slice(0, 128),
      action: record.action,
      target: record.target?.slice(0, 255) ?? null,
      user_id: record.user_id,
      details: { ...record.details, ...(record.ip ? { ip: record.ip } : {}), ...(record.user_agent ? { user_agent: record.user_agent } : {}), ...(record.request_id ? { request_id: record.request_id } : {}) },
      created_at: now,
    };
    if (em) {
      await em.insert(AuditLogEntity, row as never);
      this.db.afterCommit(em, () => this.emit(record));
    } else {
      await this.db.transaction((tx) => tx.insert(AuditLogEntity, row as never));
      this.emit(record);
    }
  }

  private emit(record: AuditRecord) {
    try {
      this.stream.write(record);
    } catch (err) {
      this.logger.error({ err, action: record.action }, 'audit stream: cannot write');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stream.close();
  }
}

/** The event with where it came from (the current HTTP request, if any). */
export function toRecord(event: AuditEvent, id: string, now: number): AuditRecord {
  const req = currentRequest();
  return {
    id,
    time: new Date(now).toISOString(),
    action: event.action,
    actor: event.actor,
    target: event.target ?? null,
    user_id: event.userId ?? null,
    ip: req?.ip ?? null,
    user_agent: req?.userAgent ?? null,
    request_id: req?.requestId ?? null,
    details: event.details ?? {},
  };
}
