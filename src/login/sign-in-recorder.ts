import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { AUDIT_ACTIONS } from '../audit/audit-event.js';
import { AuditLogRepository } from '../storage/repositories/audit-log.repository.js';
import { MetricsService } from '../health/metrics.service.js';
import { LOGGER } from '../http/logger.module.js';
import { signInOutcome, type LoginView } from './sign-in-outcome.js';

/** Records each sign-in attempt's outcome: an audit event and `causeway_logins_total{provider,outcome}`. */
@Injectable()
export class SignInRecorder {
  private readonly logins: Counter<'provider' | 'outcome'>;

  constructor(
    private readonly audit: AuditLogRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.logins = metrics.counter('causeway_logins_total', 'Sign-ins at upstream identity providers, by provider and outcome (success, failure, cancelled, expired)', ['provider', 'outcome']);
  }

  /** Called once a login step has settled and been saved. Never throws: the sign-in itself went through. */
  async settled(before: LoginView | undefined, after: LoginView): Promise<void> {
    const o = signInOutcome(before, after);
    if (!o) return;
    this.logins.inc({ provider: o.provider, outcome: o.outcome });
    try {
      await this.audit.recordNow({
        action: AUDIT_ACTIONS.loginAttempt,
        actor: o.userId ? `user:${o.userId}` : 'anonymous',
        target: o.provider,
        userId: o.userId ?? null,
        details: {
          provider: o.provider,
          outcome: o.outcome,
          ...(o.reason ? { reason: o.reason } : {}),
          ...(o.clientId ? { client_id: o.clientId } : {}),
          ...(o.subject ? { subject: o.subject } : {}),
          login_id: o.loginId,
        },
      });
    } catch (err) {
      this.logger.error({ err, login: o.loginId }, 'sign-in audit event could not be written');
    }
  }
}
