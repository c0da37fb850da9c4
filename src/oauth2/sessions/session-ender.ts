import { Injectable } from '@nestjs/common';
import { In, IsNull, type EntityManager } from 'typeorm';
import { Outbox } from '../../events/outbox.js';
import {
  AccessTokenEntity,
  AuditLogEntity,
  OAuth2SessionEntity,
  RefreshTokenEntity,
  UserEntity,
} from '../../storage/entities/index.js';
import { ulid } from '../../storage/ulid.js';
import type { EndReason } from '../oauth2.contracts.js';
import { IntrospectionCache } from '../introspect/introspection-cache.js';

/**
 * Ends OAuth sessions inside the caller's transaction: marks them finished, revokes their access
 * and refresh tokens, writes one `devices.sync` outbox row per user (the homeserver then drops the
 * devices no live session holds) and an audit row. After the transaction commits the caller calls
 * `committed()` so introspection stops answering from memory and the relay wakes up.
 */
@Injectable()
export class SessionEnder {
  constructor(
    private readonly outbox: Outbox,
    private readonly cache: IntrospectionCache,
  ) {}

  /** Ends the given unfinished sessions; returns how many were ended. */
  async end(em: EntityManager, sessionIds: string[], reason: EndReason, actor = 'system', now = Date.now()): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const sessions = await em.find(OAuth2SessionEntity, { where: { id: In(sessionIds), finished_at: IsNull() } });
    if (sessions.length === 0) return 0;
    const ids = sessions.map((s) => s.id);
    await em.update(OAuth2SessionEntity, { id: In(ids), finished_at: IsNull() }, { finished_at: now, finish_reason: reason });
    await em.update(AccessTokenEntity, { session_id: In(ids), revoked_at: IsNull() }, { revoked_at: now });
    await em.update(RefreshTokenEntity, { session_id: In(ids), revoked_at: IsNull() }, { revoked_at: now });

    const userIds = [...new Set(sessions.map((s) => s.user_id).filter((u): u is string => u !== null))];
    const users = userIds.length ? await em.find(UserEntity, { where: { id: In(userIds) }, select: { id: true, localpart: true } }) : [];
    for (const u of users) await this.outbox.enqueue(em, { kind: 'devices.sync', localpart: u.localpart });

    await em.insert(
      AuditLogEntity,
      sessions.map((s) => ({
        id: ulid(now),
        actor,
        action: 'oauth2_session.end',
        target: s.id,
        details: { reason, client_id: s.client_id, user_id: s.user_id, device_id: s.device_id } as never,
        created_at: now,
      })),
    );
    return sessions.length;
  }

  /** Call once the transaction that ended sessions has committed. */
  committed(): void {
    this.cache.invalidateAll();
    this.outbox.notify();
  }
}
