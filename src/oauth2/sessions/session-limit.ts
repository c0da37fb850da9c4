import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import type { Tx } from '../../storage/database.service.js';
import { DeviceSessionRepository } from '../../storage/repositories/device-session.repository.js';
import { SessionEnder } from './session-ender.js';
import { GRANT } from '../clients/client.js';

/** Sessions a person starts by signing in somewhere: what `max_per_user` counts (not personal tokens, not client_credentials). */
export const INTERACTIVE_GRANTS: readonly string[] = [GRANT.authorizationCode, GRANT.deviceCode];

export type LimitedSessionKind = 'oauth' | 'compat';

/**
 * `sessions.max_per_user`: before a user's new session of a kind is stored, the oldest live ones
 * (by creation) end so that the new one fits. Inside the caller's transaction; on PostgreSQL a
 * per-user transaction lock makes two concurrent sign-ins of one user count one after the other
 * (SQLite runs one transaction at a time anyway). The caller calls `ender.committed()` after the
 * commit when this returned more than 0.
 */
@Injectable()
export class SessionLimit {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly deviceSessions: DeviceSessionRepository,
    private readonly ender: SessionEnder,
  ) {}

  async makeRoom(em: Tx, userId: string, kind: LimitedSessionKind, now: number): Promise<number> {
    const max = this.config.sessions.max_per_user[kind];
    if (!max) return 0;
    const live = await this.deviceSessions.liveIdsOldestFirst(em, userId, kind, INTERACTIVE_GRANTS);
    const excess = live.length - (max - 1);
    if (excess <= 0) return 0;
    const oldest = live.slice(0, excess);
    return this.ender.endSessions(em, kind === 'oauth' ? { oauth: oldest } : { compat: oldest }, 'session_limit', 'system', now);
  }
}
