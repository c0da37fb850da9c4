import { Injectable } from '@nestjs/common';
import { GroupCommitter } from '../storage/group-commit.js';
import { OutboxDeliveryRepository, type DeadOutboxRecord, type OutboxRecord } from '../storage/repositories/outbox/outbox-delivery.repository.js';

/** An outbox row as delivery sees it. */
export type OutboxRow = OutboxRecord;

export type DeadLetter = DeadOutboxRecord;

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

/** Deliveries (or failures) whose marks share one group commit, and such batches written at once (PostgreSQL). */
const MARKS_PER_BATCH = 500;
const MARK_BATCHES_IN_FLIGHT = 2;
/** The longest delivery error kept (the column's size). */
const ERROR_LENGTH = 500;

/**
 * What delivery needs of the outbox (and of the session state `devices.sync` is computed from),
 * through storage's OutboxDeliveryRepository, which reads only committed state.
 * Marking rows delivered (or failed) is group-committed (storage/group-commit.ts): the marks of
 * concurrent deliveries share statements.
 */
@Injectable()
export class OutboxStore {
  private readonly deliveredMarks: GroupCommitter<{ ids: number[]; at: number }, void>;
  private readonly failureMarks: GroupCommitter<{ ids: number[]; error: string }, void>;

  constructor(private readonly rows: OutboxDeliveryRepository) {
    const batching = { maxBatch: MARKS_PER_BATCH, maxInFlight: rows.writesInParallel ? MARK_BATCHES_IN_FLIGHT : 1 };
    this.deliveredMarks = new GroupCommitter((marks) => this.writeDelivered(marks), batching);
    this.failureMarks = new GroupCommitter((marks) => this.writeFailures(marks), batching);
  }

  /** Users with pending rows, the one waiting longest first. */
  pendingUsers(limit: number): Promise<string[]> {
    return this.rows.pendingUsers(limit);
  }

  /** A user's pending rows in order. */
  pendingRowsForUser(userKey: string, limit: number): Promise<OutboxRow[]> {
    return this.rows.pendingOf(userKey, limit);
  }

  /** Pending rows of several users, in id order; `truncated` when `limit` cut the list short. */
  async pendingRowsForUsers(userKeys: string[], limit: number): Promise<{ rows: OutboxRow[]; truncated: boolean }> {
    if (!userKeys.length) return { rows: [], truncated: false };
    const rows = await this.rows.pendingOfUsers(userKeys, limit);
    return { rows, truncated: rows.length === limit };
  }

  /** Resolves once the rows are marked delivered (committed together with other deliveries of the same moment). */
  markDelivered(ids: number[], now: number): Promise<void> {
    if (!ids.length) return Promise.resolve();
    return this.deliveredMarks.submit({ ids, at: now });
  }

  private async writeDelivered(marks: { ids: number[]; at: number }[]): Promise<void[]> {
    // One timestamp for the batch (the latest): it is when they were all confirmed, give or take a tick.
    const at = Math.max(...marks.map((m) => m.at));
    await this.rows.markDelivered(
      marks.flatMap((m) => m.ids),
      at,
    );
    return marks.map(() => undefined);
  }

  /** Counts a failed attempt (group-committed like markDelivered: an outage fails every user at once). */
  recordFailure(ids: number[], error: string): Promise<void> {
    if (!ids.length) return Promise.resolve();
    return this.failureMarks.submit({ ids, error: error.slice(0, ERROR_LENGTH) });
  }

  private async writeFailures(marks: { ids: number[]; error: string }[]): Promise<void[]> {
    const byError = new Map<string, number[]>();
    for (const m of marks) {
      let list = byError.get(m.error);
      if (!list) byError.set(m.error, (list = []));
      list.push(...m.ids);
    }
    for (const [error, ids] of byError) await this.rows.countFailure(ids, error);
    return marks.map(() => undefined);
  }

  /** The failed attempt that gave up counts too. */
  async markDead(ids: number[], error: string, now: number): Promise<void> {
    if (!ids.length) return;
    await this.rows.markDead(ids, error.slice(0, ERROR_LENGTH), now);
  }

  /** Which of these rows need no more work (delivered, dead, or already cleaned up). */
  async settled(ids: number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    const open = await this.rows.openOf(ids);
    return new Set(ids.filter((id) => !open.has(id)));
  }

  /** Rows the relay has not published yet, in id order. */
  unpublished(limit: number): Promise<OutboxRow[]> {
    return this.rows.unpublished(limit);
  }

  async markPublished(ids: number[], now: number): Promise<void> {
    if (!ids.length) return;
    await this.rows.markPublished(ids, now);
  }

  /** Published but undelivered rows (to re-publish after Redis lost them), in id order after `afterId`. */
  publishedPending(afterId: number, limit: number, publishedBefore?: number): Promise<OutboxRow[]> {
    return this.rows.publishedPending(afterId, limit, publishedBefore);
  }

  stats(): Promise<{ pending: number; oldestCreatedAt: number | null; dead: number }> {
    return this.rows.stats();
  }

  deadLetters(limit: number, afterId = 0): Promise<DeadLetter[]> {
    return this.rows.dead(limit, afterId);
  }

  /** Puts dead letters back in the queue (attempts reset, to be published again). Returns the rows revived. */
  async revive(ids: number[]): Promise<OutboxRow[]> {
    if (!ids.length) return [];
    return this.rows.revive(ids);
  }

  /** The Causeway user behind a localpart (for the `sub` the legacy API records). */
  userIdOf(localpart: string): Promise<string | undefined> {
    return this.rows.userIdOf(localpart);
  }

  /** activeDevices for several users: one statement for both session kinds (OAuth 2.0 and compatibility `/login`). */
  async activeDevicesForUsers(localparts: string[]): Promise<Map<string, UserDevices>> {
    const out = new Map<string, UserDevices>(localparts.map((l) => [l, { live: [], imported: false }]));
    for (const r of await this.rows.liveDevicesOf(localparts)) {
      const u = out.get(r.localpart);
      if (!u) continue;
      if (r.deviceId === null) u.imported = true;
      else u.live.push(r.deviceId);
    }
    for (const u of out.values()) u.live = [...new Set(u.live)].sort();
    return out;
  }

  /** Devices of the user's still-active sessions: what the homeserver's device list must equal. */
  async activeDevices(localpart: string): Promise<UserDevices> {
    return (await this.activeDevicesForUsers([localpart])).get(localpart) ?? { live: [], imported: false };
  }

  /** Devices of the user's sessions (either kind) that ended at or after `since` (ms). */
  endedDevices(localpart: string, since: number): Promise<string[]> {
    return this.rows.endedDevicesOf(localpart, since);
  }
}
