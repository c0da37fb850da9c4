import { Injectable } from '@nestjs/common';
import { In, IsNull, type EntityManager } from 'typeorm';
import { Outbox } from '../../events/outbox.js';
import {
  AccessTokenEntity,
  AuditLogEntity,
  CompatSessionEntity,
  CompatTokenEntity,
  OAuth2SessionEntity,
  RefreshTokenEntity,
  UserEntity,
} from '../../storage/entities/index.js';
import { ulid } from '../../storage/ulid.js';
import type { EndReason } from '../oauth2.contracts.js';
import { IntrospectionCache } from '../introspect/introspection-cache.js';

/** Sessions to end, by kind: OAuth 2.0 sessions and compatibility (`/login`) sessions. */
export interface SessionIds {
  oauth?: string[];
  compat?: string[];
}

/**
 * Ends sessions inside the caller's transaction: marks them finished, revokes their tokens, writes
 * one `devices.sync` outbox row per user (the homeserver then drops the devices no live session
 * holds, OAuth or compat) and an audit row per session. After the transaction commits the caller
 * calls `committed()` so introspection stops answering from memory and the relay wakes up.
 */
@Injectable()
export class SessionEnder {
  constructor(
    private readonly outbox: Outbox,
    private readonly cache: IntrospectionCache,
  ) {}

  /** Ends the given unfinished OAuth sessions; returns how many were ended. */
  end(em: EntityManager, sessionIds: string[], reason: EndReason, actor = 'system', now = Date.now()): Promise<number> {
    return this.endSessions(em, { oauth: sessionIds }, reason, actor, now);
  }

  /** Ends the given unfinished sessions of both kinds; returns how many were ended. */
  async endSessions(em: EntityManager, ids: SessionIds, reason: EndReason, actor = 'system', now = Date.now()): Promise<number> {
    const oauth = ids.oauth?.length ? await em.find(OAuth2SessionEntity, { where: { id: In(ids.oauth), finished_at: IsNull() } }) : [];
    const compat = ids.compat?.length ? await em.find(CompatSessionEntity, { where: { id: In(ids.compat), finished_at: IsNull() } }) : [];
    if (oauth.length === 0 && compat.length === 0) return 0;

    if (oauth.length) {
      const o = oauth.map((s) => s.id);
      await em.update(OAuth2SessionEntity, { id: In(o), finished_at: IsNull() }, { finished_at: now, finish_reason: reason });
      await em.update(AccessTokenEntity, { session_id: In(o), revoked_at: IsNull() }, { revoked_at: now });
      await em.update(RefreshTokenEntity, { session_id: In(o), revoked_at: IsNull() }, { revoked_at: now });
    }
    if (compat.length) {
      const c = compat.map((s) => s.id);
      await em.update(CompatSessionEntity, { id: In(c), finished_at: IsNull() }, { finished_at: now, finish_reason: reason });
      await em.update(CompatTokenEntity, { session_id: In(c), revoked_at: IsNull() }, { revoked_at: now });
    }

    const userIds = [...new Set([...oauth.map((s) => s.user_id), ...compat.map((s) => s.user_id)].filter((u): u is string => u !== null))];
    const users = userIds.length ? await em.find(UserEntity, { where: { id: In(userIds) }, select: { id: true, localpart: true } }) : [];
    for (const u of users) await this.outbox.enqueue(em, { kind: 'devices.sync', localpart: u.localpart });

    const audit = [
      ...oauth.map((s) => ({ action: 'oauth2_session.end', target: s.id, details: { reason, client_id: s.client_id, user_id: s.user_id, device_id: s.device_id } })),
      ...compat.map((s) => ({ action: 'compat_session.end', target: s.id, details: { reason, user_id: s.user_id, device_id: s.device_id } })),
    ];
    await em
      .createQueryBuilder()
      .insert()
      .into(AuditLogEntity)
      .values(audit.map((a) => ({ id: ulid(now), actor, action: a.action, target: a.target, details: a.details as never, created_at: now })))
      .updateEntity(false) // no reading the rows back (TypeORM would on SQLite)
      .execute();
    return oauth.length + compat.length;
  }

  /** Call once the transaction that ended sessions has committed. */
  committed(): void {
    this.cache.invalidateAll();
    this.outbox.notify();
  }
}
