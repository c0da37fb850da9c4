import { Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LOGGER } from '../http/logger.module.js';
import { AuditLogRepository } from '../storage/repositories/audit-log.repository.js';
import { openAuditStream, type AuditStream } from './audit-stream.js';

/**
 * The JSON-lines copy of the audit trail (`audit.stream`): every row the AuditLogRepository
 * records, written once its transaction has committed.
 */
@Injectable()
export class AuditStreamWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly stream: AuditStream;

  constructor(
    private readonly repository: AuditLogRepository,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.stream = openAuditStream(config.audit, logger);
  }

  onModuleInit(): void {
    if (this.config.audit.stream !== 'none') this.repository.onRecord((r) => this.stream.write(r));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stream.close();
  }
}

@Module({ providers: [AuditStreamWriter] })
export class AuditModule {}
