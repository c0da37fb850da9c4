import { Inject, Injectable } from '@nestjs/common';
import { In, IsNull, type EntityManager } from 'typeorm';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { Database } from '../../storage/database.service.js';
import { CompatSessionEntity, OAuth2SessionEntity } from '../../storage/entities/index.js';
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
    private readonly db: Database,
    private readonly ender: SessionEnder,
  ) {}

  async makeRoom(em: EntityManager, userId: string, kind: LimitedSessionKind, now: number): Promise<number> {
    const max = this.config.sessions.max_per_user[kind];
    if (!max) return 0;
    if (this.db.kind === 'postgres') await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`causeway.sessions:${userId}`]);
    const where = { user_id: userId, finished_at: IsNull() };
    const live =
      kind === 'oauth'
        ? await em.find(OAuth2SessionEntity, { where: { ...where, grant_type: In([...INTERACTIVE_GRANTS]) }, select: { id: true }, order: { created_at: 'ASC', id: 'ASC' } })
        : await em.find(CompatSessionEntity, { where, select: { id: true }, order: { created_at: 'ASC', id: 'ASC' } });
    const excess = live.length - (max - 1);
    if (excess <= 0) return 0;
    const oldest = live.slice(0, excess).map((s) => s.id);
    return this.ender.endSessions(em, kind === 'oauth' ? { oauth: oldest } : { compat: oldest }, 'session_limit', 'system', now);
  }
}
