import { Injectable } from '@nestjs/common';
import { In, IsNull, Not, type EntityManager } from 'typeorm';
import { Database, type HotStatement } from '../storage/database.service.js';
import { GroupCommitter } from '../storage/group-commit.js';
import { OutboxEntity, UserEntity } from '../storage/entities/index.js';

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

/** What a sign-out must leave on the homeserver for one user. */
export interface UserDevices {
  /** Devices of the user's still-active sessions (OAuth 2.0 and compatibility), sorted. */
  live: string[];
  /**
   * The account was imported from Synapse: the homeserver may hold devices Causeway never saw, so
   * its device list is not Causeway's to replace (no `sync_devices`; ended devices are deleted one by one).
   */
  imported: boolean;
}

const toRow = (e: OutboxEntity): OutboxRow => ({ id: e.id, userKey: e.user_key, kind: e.kind, payload: e.payload ?? {}, createdAt: e.created_at, attempts: e.attempts });

/** A pending row: not delivered, not dead. */
const PENDING = { delivered_at: IsNull(), dead_at: IsNull() };

const ROW_COLUMNS = 'id, user_key, kind, payload, created_at, attempts';
/** Ids per marking statement. */
const ID_CHUNK = 1000;
/** Deliveries (or failures) whose marks share one group commit, and such batches written at once (PostgreSQL). */
const MARKS_PER_BATCH = 500;
const MARK_BATCHES_IN_FLIGHT = 2;

/**
 * The statements delivery runs for every batch, without TypeORM (Database.hot): constant texts,
 * prepared once. Conditions are written for the index each should use, whatever the planner's
 * statistics say about a queue table that grows and empties by the minute: the partial pending
 * index for a user's pending rows; the primary key for updates by id (hence COALESCE, which no
 * index matches, instead of `delivered_at IS NULL`).
 */
const HOT = {
  pendingRows: {
    name: 'causeway_outbox_pending_rows',
    postgres: `SELECT ${ROW_COLUMNS} FROM outbox WHERE user_key = ANY($1::varchar[]) AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT $2`,
    sqlite: `SELECT ${ROW_COLUMNS} FROM outbox WHERE user_key IN (SELECT value FROM json_each(?)) AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT ?`,
  },
  // A row with a NULL device marks an account imported from Synapse (see UserDevices.imported).
  activeDevices: {
    name: 'causeway_outbox_active_devices',
    postgres: `SELECT u.localpart, s.device_id FROM users u JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE u.localpart = ANY($1::varchar[]) AND s.finished_at IS NULL AND s.device_id IS NOT NULL
      UNION ALL SELECT u.localpart, c.device_id FROM users u JOIN compat_sessions c ON c.user_id = u.id
      WHERE u.localpart = ANY($1::varchar[]) AND c.finished_at IS NULL
      UNION ALL SELECT u.localpart, NULL FROM users u WHERE u.localpart = ANY($1::varchar[]) AND u.imported_at IS NOT NULL`,
    sqlite: `WITH l(lp) AS (SELECT value FROM json_each(?))
      SELECT u.localpart, s.device_id FROM users u JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE u.localpart IN (SELECT lp FROM l) AND s.finished_at IS NULL AND s.device_id IS NOT NULL
      UNION ALL SELECT u.localpart, c.device_id FROM users u JOIN compat_sessions c ON c.user_id = u.id
      WHERE u.localpart IN (SELECT lp FROM l) AND c.finished_at IS NULL
      UNION ALL SELECT u.localpart, NULL FROM users u WHERE u.localpart IN (SELECT lp FROM l) AND u.imported_at IS NOT NULL`,
  },
  endedDevices: {
    name: 'causeway_outbox_ended_devices',
    postgres: `SELECT s.device_id FROM users u JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE u.localpart = $1 AND s.finished_at >= $2 AND s.device_id IS NOT NULL
      UNION SELECT c.device_id FROM users u JOIN compat_sessions c ON c.user_id = u.id WHERE u.localpart = $1 AND c.finished_at >= $2`,
    sqlite: `WITH p(lp, since) AS (SELECT ?, ?)
      SELECT s.device_id FROM p JOIN users u ON u.localpart = p.lp JOIN oauth2_sessions s ON s.user_id = u.id
      WHERE s.finished_at >= p.since AND s.device_id IS NOT NULL
      UNION SELECT c.device_id FROM p JOIN users u ON u.localpart = p.lp JOIN compat_sessions c ON c.user_id = u.id WHERE c.finished_at >= p.since`,
  },
  markDelivered: {
    name: 'causeway_outbox_mark_delivered',
    postgres: `UPDATE outbox SET delivered_at = $1 WHERE id = ANY($2::bigint[]) AND COALESCE(delivered_at, 0) = 0`,
    sqlite: `UPDATE outbox SET delivered_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND COALESCE(delivered_at, 0) = 0`,
  },
  settledOf: {
    name: 'causeway_outbox_open_of',
    postgres: `SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND COALESCE(delivered_at, dead_at, 0) = 0`,
    sqlite: `SELECT id FROM outbox WHERE id IN (SELECT value FROM json_each(?)) AND COALESCE(delivered_at, dead_at, 0) = 0`,
  },
  unpublished: {
    name: 'causeway_outbox_unpublished',
    postgres: `SELECT ${ROW_COLUMNS} FROM outbox WHERE published_at IS NULL AND COALESCE(delivered_at, dead_at) IS NULL ORDER BY id LIMIT $1`,
    sqlite: `SELECT ${ROW_COLUMNS} FROM outbox WHERE published_at IS NULL AND COALESCE(delivered_at, dead_at) IS NULL ORDER BY id LIMIT ?`,
  },
  markPublished: {
    name: 'causeway_outbox_mark_published',
    postgres: `UPDATE outbox SET published_at = $1 WHERE id = ANY($2::bigint[])`,
    sqlite: `UPDATE outbox SET published_at = ? WHERE id IN (SELECT value FROM json_each(?))`,
  },
} satisfies Record<string, HotStatement>;

interface RawRow extends Record<string, unknown> {
  id: number;
  user_key: string;
  kind: string;
  payload: string | null;
  created_at: number | string;
  attempts: number;
}

const fromRaw = (r: RawRow): OutboxRow => ({
  id: Number(r.id),
  userKey: r.user_key,
  kind: r.kind,
  payload: r.payload ? (JSON.parse(r.payload) as Record<string, unknown>) : {},
  createdAt: Number(r.created_at),
  attempts: Number(r.attempts),
});

/**
 * Every query delivery needs on the outbox (and the session state `devices.sync` is computed from).
 *
 * On SQLite every statement shares one connection, so a read issued while another request's
 * transaction is open would see that transaction's uncommitted rows (a sign-out that may still roll
 * back). Delivery must only act on committed state, so on SQLite its reads queue like writes.
 * Marking rows delivered (or failed) is group-committed (storage/group-commit.ts): the marks of
 * concurrent deliveries share statements.
 */
@Injectable()
export class OutboxStore {
  private readonly deliveredMarks: GroupCommitter<{ ids: number[]; at: number }, void>;
  private readonly failureMarks: GroupCommitter<{ ids: number[]; error: string }, void>;

  constructor(private readonly db: Database) {
    const batching = { maxBatch: MARKS_PER_BATCH, maxInFlight: db.kind === 'postgres' ? MARK_BATCHES_IN_FLIGHT : 1 };
    this.deliveredMarks = new GroupCommitter((marks) => this.writeDelivered(marks), batching);
    this.failureMarks = new GroupCommitter((marks) => this.writeFailures(marks), batching);
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

  /** A user's pending rows in order. */
  async pendingRowsForUser(userKey: string, limit: number): Promise<OutboxRow[]> {
    const rows = await this.read((em) => em.find(OutboxEntity, { where: { user_key: userKey, ...PENDING }, order: { id: 'ASC' }, take: limit }));
    return rows.map(toRow);
  }

  /** Pending rows of several users, in id order; `truncated` when `limit` cut the list short. */
  async pendingRowsForUsers(userKeys: string[], limit: number): Promise<{ rows: OutboxRow[]; truncated: boolean }> {
    if (!userKeys.length) return { rows: [], truncated: false };
    const rows = await this.db.hot<RawRow>(HOT.pendingRows, [userKeys, limit]);
    return { rows: rows.map(fromRaw), truncated: rows.length === limit };
  }

  /** Resolves once the rows are marked delivered (committed together with other deliveries of the same moment). */
  markDelivered(ids: number[], now: number): Promise<void> {
    if (!ids.length) return Promise.resolve();
    return this.deliveredMarks.submit({ ids, at: now });
  }

  private async writeDelivered(marks: { ids: number[]; at: number }[]): Promise<void[]> {
    // One timestamp for the batch (the latest): it is when they were all confirmed, give or take a tick.
    const at = Math.max(...marks.map((m) => m.at));
    const ids = marks.flatMap((m) => m.ids);
    for (let i = 0; i < ids.length; i += ID_CHUNK) await this.db.hot(HOT.markDelivered, [at, ids.slice(i, i + ID_CHUNK)]);
    return marks.map(() => undefined);
  }

  /** Counts a failed attempt (group-committed like markDelivered: an outage fails every user at once). */
  recordFailure(ids: number[], error: string): Promise<void> {
    if (!ids.length) return Promise.resolve();
    return this.failureMarks.submit({ ids, error: error.slice(0, 500) });
  }

  private async writeFailures(marks: { ids: number[]; error: string }[]): Promise<void[]> {
    const byError = new Map<string, number[]>();
    for (const m of marks) {
      let list = byError.get(m.error);
      if (!list) byError.set(m.error, (list = []));
      list.push(...m.ids);
    }
    for (const [error, ids] of byError) {
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        const chunk = ids.slice(i, i + ID_CHUNK);
        await this.writeOne((em) =>
          em.createQueryBuilder().update(OutboxEntity).set({ attempts: () => 'attempts + 1', last_error: error }).where({ id: In(chunk) }).execute(),
        );
      }
    }
    return marks.map(() => undefined);
  }

  /** The failed attempt that gave up counts too. */
  async markDead(ids: number[], error: string, now: number): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction((em) =>
      em
        .createQueryBuilder()
        .update(OutboxEntity)
        .set({ dead_at: now, attempts: () => 'attempts + 1', last_error: error.slice(0, 500) })
        // "Still pending" written so that it does not match the partial pending index's predicate,
        // which PostgreSQL would otherwise scan whole instead of the primary key (see settled()).
        .where({ id: In(ids) })
        .andWhere('COALESCE(delivered_at, dead_at) IS NULL')
        .execute(),
    );
  }

  /** Which of these rows need no more work (delivered, dead, or already cleaned up). */
  async settled(ids: number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    const open = new Set((await this.db.hot<{ id: number }>(HOT.settledOf, [ids])).map((r) => Number(r.id)));
    return new Set(ids.filter((id) => !open.has(id)));
  }

  /** Rows the relay has not published yet, in id order. */
  async unpublished(limit: number): Promise<OutboxRow[]> {
    return (await this.db.hot<RawRow>(HOT.unpublished, [limit])).map(fromRaw);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    if (!ids.length) return;
    await this.db.hot(HOT.markPublished, [now, ids]);
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

  /** The Causeway user behind a localpart (for the `sub` the legacy API records). */
  async userIdOf(localpart: string): Promise<string | undefined> {
    return (await this.read((em) => em.findOne(UserEntity, { where: { localpart }, select: { id: true } })))?.id;
  }

  /** activeDevices for several users: one statement for both session kinds (OAuth 2.0 and compatibility `/login`). */
  async activeDevicesForUsers(localparts: string[]): Promise<Map<string, UserDevices>> {
    const out = new Map<string, UserDevices>(localparts.map((l) => [l, { live: [], imported: false }]));
    const rows = await this.db.hot<{ localpart: string; device_id: string | null }>(HOT.activeDevices, [localparts]);
    for (const r of rows) {
      const u = out.get(r.localpart);
      if (!u) continue;
      if (r.device_id === null) u.imported = true;
      else u.live.push(r.device_id);
    }
    for (const u of out.values()) u.live = [...new Set(u.live)].sort();
    return out;
  }

  /** Devices of the user's still-active sessions: what the homeserver's device list must equal. */
  async activeDevices(localpart: string): Promise<UserDevices> {
    return (await this.activeDevicesForUsers([localpart])).get(localpart) ?? { live: [], imported: false };
  }

  /** Devices of the user's sessions (either kind) that ended at or after `since` (ms). */
  async endedDevices(localpart: string, since: number): Promise<string[]> {
    return (await this.db.hot<{ device_id: string }>(HOT.endedDevices, [localpart, since])).map((r) => r.device_id);
  }
}
