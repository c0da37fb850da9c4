import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit-log.service.js';

/** The audit trail (AuditLog), for every module that records who did what. */
@Global()
@Module({ providers: [AuditLog], exports: [AuditLog] })
export class AuditModule {}
