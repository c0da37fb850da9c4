import { Injectable } from '@nestjs/common';
import { In, IsNull, Not, type EntityManager } from 'typeorm';
import { Database } from '../storage/database.service.js';
import { CompatSessionEntity, OAuth2SessionEntity, OutboxEntity, UserEntity } from '../storage/entities/index.js';

/** An outbox row as delivery sees it. */
export interface OutboxRow {
  id: number;
  userKey: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
  attempts: number;
}

export interface DeadLetter extends OutboxRow {
  deadAt: number;
  lastError: string | null;
}

const toRow = (e: OutboxEntity): OutboxRow => ({ id: e.id, userKey: e.user_key, kind: e.kind, payload: e.payload ?? {}, createdAt: e.created_at, attempts: e.attempts });

/** A pending row: not delivered, not dead. */
const PENDING = { delivered_at: IsNull(), dead_at: IsNull() };

/** Every query delivery needs on the outbox (and the session state `devices.sync` is computed from). */
@Injectable()
export class OutboxStore {
  constructor(private readonly db: Database) {}

  private get em(): EntityManager {
    return this.db.manager;
  }

  /** Users with pending rows, the one waiting longest first. */
  async pendingUsers(limit: number): Promise<string[]> {
    const rows = await this.em
      .createQueryBuilder(OutboxEntity, 'o')
      .select('o.user_key', 'user_key')
      .addSelect('MIN(o.id)', 'first')
      .where('o.delivered_at IS NULL AND o.dead_at IS NULL')
      .groupBy('o.user_key')
      .orderBy('first', 'ASC')
      .limit(limit)
      .getRawMany<{ user_key: string }>();
    return rows.map((r) => r.user_key);
  }

  /** A user's pending rows in order. */
  async pendingRowsForUser(userKey: string, limit: number): Promise<OutboxRow[]> {
    const rows = await this.em.find(OutboxEntity, { where: { user_key: userKey, ...PENDING }, order: { id: 'ASC' }, take: limit });
    return rows.map(toRow);
  }

  async markDelivered(ids: number[], now: number): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction((em) => em.update(OutboxEntity, { id: In(ids), delivered_at: IsNull() }, { delivered_at: now }));
  }

  async recordFailure(ids: number[], error: string): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction((em) =>
      em
        .createQueryBuilder()
        .update(OutboxEntity)
        .set({ attempts: () => 'attempts + 1', last_error: error.slice(0, 500) })
        .where({ id: In(ids) })
        .execute(),
    );
  }

  /** The failed attempt that gave up counts too. */
  async markDead(ids: number[], error: string, now: number): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction((em) =>
      em
        .createQueryBuilder()
        .update(OutboxEntity)
        .set({ dead_at: now, attempts: () => 'attempts + 1', last_error: error.slice(0, 500) })
        .where({ id: In(ids), ...PENDING })
        .execute(),
    );
  }

  /** Which of these rows need no more work (delivered, dead, or already cleaned up). */
  async settled(ids: number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    const pending = await this.em.find(OutboxEntity, { where: { id: In(ids), ...PENDING }, select: { id: true } });
    const open = new Set(pending.map((r) => r.id));
    return new Set(ids.filter((id) => !open.has(id)));
  }

  /** Rows the relay has not published yet, in id order. */
  async unpublished(limit: number): Promise<OutboxRow[]> {
    const rows = await this.em.find(OutboxEntity, { where: { published_at: IsNull(), ...PENDING }, order: { id: 'ASC' }, take: limit });
    return rows.map(toRow);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction((em) => em.update(OutboxEntity, { id: In(ids) }, { published_at: now }));
  }

  /** Published but undelivered rows (to re-publish after Redis lost them), in id order after `afterId`. */
  async publishedPending(afterId: number, limit: number, publishedBefore?: number): Promise<OutboxRow[]> {
    const qb = this.em
      .createQueryBuilder(OutboxEntity, 'o')
      .where('o.delivered_at IS NULL AND o.dead_at IS NULL AND o.published_at IS NOT NULL AND o.id > :afterId', { afterId })
      .orderBy('o.id', 'ASC')
      .limit(limit);
    if (publishedBefore !== undefined) qb.andWhere('o.published_at < :before', { before: publishedBefore });
    return (await qb.getMany()).map(toRow);
  }

  async stats(): Promise<{ pending: number; oldestCreatedAt: number | null; dead: number }> {
    const p = await this.em
      .createQueryBuilder(OutboxEntity, 'o')
      .select('COUNT(*)', 'n')
      .addSelect('MIN(o.created_at)', 'oldest')
      .where('o.delivered_at IS NULL AND o.dead_at IS NULL')
      .getRawOne<{ n: string | number; oldest: string | number | null }>();
    const dead = await this.em.count(OutboxEntity, { where: { dead_at: Not(IsNull()) } });
    return { pending: Number(p?.n ?? 0), oldestCreatedAt: p?.oldest === null || p?.oldest === undefined ? null : Number(p.oldest), dead };
  }

  async deadLetters(limit: number, afterId = 0): Promise<DeadLetter[]> {
    const rows = await this.em
      .createQueryBuilder(OutboxEntity, 'o')
      .where('o.dead_at IS NOT NULL AND o.id > :afterId', { afterId })
      .orderBy('o.id', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((e) => ({ ...toRow(e), deadAt: e.dead_at!, lastError: e.last_error }));
  }

  /** Puts dead letters back in the queue (attempts reset, to be published again). Returns the rows revived. */
  async revive(ids: number[]): Promise<OutboxRow[]> {
    if (!ids.length) return [];
    return this.db.transaction(async (em) => {
      const rows = await em.find(OutboxEntity, { where: { id: In(ids), dead_at: Not(IsNull()), delivered_at: IsNull() } });
      if (!rows.length) return [];
      await em.update(OutboxEntity, { id: In(rows.map((r) => r.id)) }, { dead_at: null, attempts: 0, last_error: null, published_at: null });
      return rows.map(toRow);
    });
  }

  /** Retention: delivered rows older than `before` go (bounded batch). Returns how many. */
  async deleteDeliveredBefore(before: number, limit: number): Promise<number> {
    const old = await this.em.find(OutboxEntity, { where: { delivered_at: Not(IsNull()) }, select: { id: true, delivered_at: true }, order: { id: 'ASC' }, take: limit });
    const ids = old.filter((r) => r.delivered_at! < before).map((r) => r.id);
    if (!ids.length) return 0;
    await this.db.transaction((em) => em.delete(OutboxEntity, { id: In(ids) }));
    return ids.length;
  }

  /** The Causeway user behind a localpart (for the `sub` the legacy API records). */
  async userIdOf(localpart: string): Promise<string | undefined> {
    return (await this.em.findOne(UserEntity, { where: { localpart }, select: { id: true } }))?.id;
  }

  /** Devices of the user's still-active sessions: what the homeserver's device list must equal. */
  async activeDevices(localpart: string): Promise<string[]> {
    const user = await this.em.findOne(UserEntity, { where: { localpart }, select: { id: true } });
    if (!user) return [];
    // Devices of OAuth 2.0 sessions and of compatibility (`/login`) sessions alike.
    const where = { user_id: user.id, finished_at: IsNull(), device_id: Not(IsNull()) };
    const oauth = await this.em.find(OAuth2SessionEntity, { where, select: { device_id: true } });
    const compat = await this.em.find(CompatSessionEntity, { where, select: { device_id: true } });
    return [...new Set([...oauth, ...compat].map((r) => r.device_id!))].sort();
  }
}
