import { In, IsNull, Not, type EntityManager } from 'typeorm';
import type { Database } from '../../database.service.js';
import { OutboxEntity, UserEntity } from '../../entities/index.js';
import { HOT } from './outbox.statements.js';

/** An outbox row as delivery reads it. */
export interface OutboxRecord {
  id: number;
  userKey: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
  attempts: number;
}

/** A row delivery gave up on. */
export interface DeadOutboxRecord extends OutboxRecord {
  deadAt: number;
  lastError: string | null;
}

/** A device held by a live session of a user (OAuth 2.0 or compatibility), or the mark of an imported account. */
export interface LiveDevice {
  localpart: string;
  /** null: not a device but the mark that the account was imported from Synapse (one per such user). */
  deviceId: string | null;
}

const toRecord = (e: OutboxEntity): OutboxRecord => ({ id: e.id, userKey: e.user_key, kind: e.kind, payload: e.payload ?? {}, createdAt: e.created_at, attempts: e.attempts });

/** A pending row: not delivered, not dead. */
const PENDING = { delivered_at: IsNull(), dead_at: IsNull() };

/** Ids per marking statement. */
const ID_CHUNK = 1000;

interface RawRow extends Record<string, unknown> {
  id: number;
  user_key: string;
  kind: string;
  payload: string | null;
  created_at: number | string;
  attempts: number;
}

const fromRaw = (r: RawRow): OutboxRecord => ({
  id: Number(r.id),
  userKey: r.user_key,
  kind: r.kind,
  payload: r.payload ? (JSON.parse(r.payload) as Record<string, unknown>) : {},
  createdAt: Number(r.created_at),
  attempts: Number(r.attempts),
});

/**
 * The delivery side of the outbox table (the write side is OutboxRepository): pending rows, the
 * delivered / failed / dead / published marks, dead letters, and the session state a
 * `devices.sync` event is computed from. Hot paths run the hand-written statements of
 * outbox.statements.ts through Database.hot.
 *
 * On SQLite every statement shares one connection, so a read issued while another request's
 * transaction is open would see that transaction's uncommitted rows (a sign-out that may still roll
 * back). Delivery must only act on committed state, so on SQLite its reads queue like writes.
 */
export class OutboxDeliveryRepository {
  constructor(private readonly db: Database) {}

  /** Whether writes run side by side (PostgreSQL's pool) rather than one at a time (SQLite's one connection). */
  get writesInParallel(): boolean {
    return this.db.kind === 'postgres';
  }

  private get em(): EntityManager {
    return this.db.manager;
  }

  /** Runs a read against committed state only (see above). */
  private read<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.kind === 'sqlite' ? this.db.transaction(work) : work(this.db.manager);
  }

  /**
   * A write of ONE statement: atomic by itself, so on PostgreSQL it runs on the pool without
   * BEGIN/COMMIT (one round trip instead of three); on SQLite it queues like every write.
   */
  private writeOne<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.kind === 'sqlite' ? this.db.transaction(work) : work(this.db.manager);
  }

  /** Users with pending rows, the one waiting longest first. */
  async pendingUsers(limit: number): Promise<string[]> {
    const rows = await this.read((em) =>
      em
        .createQueryBuilder(OutboxEntity, 'o')
        .select('o.user_key', 'user_key')
        .addSelect('MIN(o.id)', 'first')
        .where('o.delivered_at IS NULL AND o.dead_at IS NULL')
        .groupBy('o.user_key')
        .orderBy('first', 'ASC')
        .limit(limit)
        .getRawMany<{ user_key: string }>(),
    );
    return rows.map((r) => r.user_key);
  }

  /** A user's pending rows in id order. */
  async pendingOf(userKey: string, limit: number): Promise<OutboxRecord[]> {
    const rows = await this.read((em) => em.find(OutboxEntity, { where: { user_key: userKey, ...PENDING }, order: { id: 'ASC' }, take: limit }));
    return rows.map(toRecord);
  }

  /** Pending rows of several users (at least one), in id order, at most `limit`. */
  async pendingOfUsers(userKeys: string[], limit: number): Promise<OutboxRecord[]> {
    return (await this.db.hot<RawRow>(HOT.pendingRows, [userKeys, limit])).map(fromRaw);
  }

  /** Marks the rows delivered at `at` (those not marked already). */
  async markDelivered(ids: number[], at: number): Promise<void> {
    for (let i = 0; i < ids.length; i += ID_CHUNK) await this.db.hot(HOT.markDelivered, [at, ids.slice(i, i + ID_CHUNK)]);
  }

  /** Counts one failed attempt on each row and records its error. */
  async countFailure(ids: number[], error: string): Promise<void> {
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const chunk = ids.slice(i, i + ID_CHUNK);
      await this.writeOne((em) =>
        em
          .createQueryBuilder()
          .update(OutboxEntity)
          .set({ attempts: () => 'attempts + 1', last_error: error })
          .where({ id: In(chunk) })
          .execute(),
      );
    }
  }

  /** Marks the still-pending rows dead at `now`, counting one more failed attempt with its error. */
  async markDead(ids: number[], error: string, now: number): Promise<void> {
    await this.db.transaction((em) =>
      em
        .createQueryBuilder()
        .update(OutboxEntity)
        .set({ dead_at: now, attempts: () => 'attempts + 1', last_error: error })
        // "Still pending" written so that it does not match the partial pending index's predicate,
        // which PostgreSQL would otherwise scan whole instead of the primary key (see openOf()).
        .where({ id: In(ids) })
        .andWhere('COALESCE(delivered_at, dead_at) IS NULL')
        .execute(),
    );
  }

  /** Which of these rows exist and are neither delivered nor dead. */
  async openOf(ids: number[]): Promise<Set<number>> {
    return new Set((await this.db.hot<{ id: number }>(HOT.settledOf, [ids])).map((r) => Number(r.id)));
  }

  /** Open rows not published yet, in id order. */
  async unpublished(limit: number): Promise<OutboxRecord[]> {
    return (await this.db.hot<RawRow>(HOT.unpublished, [limit])).map(fromRaw);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    await this.db.hot(HOT.markPublished, [now, ids]);
  }

  /** Published but pending rows, in id order after `afterId`, published before `publishedBefore` if given. */
  async publishedPending(afterId: number, limit: number, publishedBefore?: number): Promise<OutboxRecord[]> {
    const qb = this.em.createQueryBuilder(OutboxEntity, 'o').where('o.delivered_at IS NULL AND o.dead_at IS NULL AND o.published_at IS NOT NULL AND o.id > :afterId', { afterId }).orderBy('o.id', 'ASC').limit(limit);
    if (publishedBefore !== undefined) qb.andWhere('o.published_at < :before', { before: publishedBefore });
    return (await qb.getMany()).map(toRecord);
  }

  /** Pending rows, the oldest one's creation time, dead rows. */
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

  /** Dead rows in id order after `afterId`. */
  async dead(limit: number, afterId: number): Promise<DeadOutboxRecord[]> {
    const rows = await this.em.createQueryBuilder(OutboxEntity, 'o').where('o.dead_at IS NOT NULL AND o.id > :afterId', { afterId }).orderBy('o.id', 'ASC').limit(limit).getMany();
    return rows.map((e) => ({ ...toRecord(e), deadAt: e.dead_at!, lastError: e.last_error }));
  }

  /** In one transaction: the dead, undelivered rows among `ids` become pending and unpublished again, attempts and error cleared. Returns them as they were. */
  async revive(ids: number[]): Promise<OutboxRecord[]> {
    return this.db.transaction(async (em) => {
      const rows = await em.find(OutboxEntity, { where: { id: In(ids), dead_at: Not(IsNull()), delivered_at: IsNull() } });
      if (!rows.length) return [];
      await em.update(OutboxEntity, { id: In(rows.map((r) => r.id)) }, { dead_at: null, attempts: 0, last_error: null, published_at: null });
      return rows.map(toRecord);
    });
  }

  /** The id of the user with this localpart. */
  async userIdOf(localpart: string): Promise<string | undefined> {
    return (await this.read((em) => em.findOne(UserEntity, { where: { localpart }, select: { id: true } })))?.id;
  }

  /** Devices of the live sessions of these users, both kinds, in one statement (duplicates possible), and a mark per imported account. */
  async liveDevicesOf(localparts: string[]): Promise<LiveDevice[]> {
    const rows = await this.db.hot<{ localpart: string; device_id: string | null }>(HOT.activeDevices, [localparts]);
    return rows.map((r) => ({ localpart: r.localpart, deviceId: r.device_id }));
  }

  /** Devices of the user's sessions (either kind) that ended at or after `since` (ms). */
  async endedDevicesOf(localpart: string, since: number): Promise<string[]> {
    return (await this.db.hot<{ device_id: string }>(HOT.endedDevices, [localpart, since])).map((r) => r.device_id);
  }
}
