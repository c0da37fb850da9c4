import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import { bigintToNumber, NullableTimestampColumn, TimestampColumn } from '../columns.js';

/**
 * Something the homeserver must learn, written in the same transaction as the change itself.
 * The relay publishes it (at least once); consumers deliver it in order per user. The row is the
 * source of truth: a stream message only says "this user has work"; `delivered_at` is set once the
 * homeserver confirmed, `dead_at` once delivery gave up (dead letter, replayable).
 */
@Entity('outbox')
@Index(['published_at', 'id'])
@Index('IDX_outbox_pending', ['user_key', 'id'], { where: 'delivered_at IS NULL AND dead_at IS NULL' })
export class OutboxEntity {
  // bigint: ids are never reused, so a busy homeserver's sign-outs would run out of 2^31 in years.
  // SQLite only auto-increments an INTEGER PRIMARY KEY (64-bit there): data-source.ts declares it so.
  @PrimaryColumn({ type: 'bigint', transformer: bigintToNumber }) @Generated('increment') id!: number;
  /** The user the event is about: the ordering and sharding key. */
  @Index() @Column({ type: 'varchar', length: 255 }) user_key!: string;
  @Column({ type: 'varchar', length: 64 }) kind!: string;
  @Column({ type: 'simple-json' }) payload!: Record<string, unknown>;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() published_at!: number | null;
  // No index of its own: one on delivered_at tempted PostgreSQL, with a queue table's ever-stale
  // statistics, to scan every pending row for a user's rows or an update by id (repositories/outbox/outbox.statements.ts).
  @NullableTimestampColumn() delivered_at!: number | null;
  /** Failed delivery attempts so far (across consumers and restarts). */
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  /** Set when delivery gave up after `events.max_attempts` (or a permanent error): a dead letter. */
  @NullableTimestampColumn() dead_at!: number | null;
  /** The last delivery error (no secrets: status, errcode, message). */
  @Column({ type: 'varchar', length: 500, nullable: true, default: null }) last_error!: string | null;
}
