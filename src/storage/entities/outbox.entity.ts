import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { NullableTimestampColumn, TimestampColumn } from '../columns.js';

/**
 * Something the homeserver must learn, written in the same transaction as the change itself.
 * The relay publishes it (at least once); consumers deliver it in order per user.
 */
@Entity('outbox')
@Index(['published_at', 'id'])
export class OutboxEntity {
  // integer (not bigint): SQLite only auto-increments an INTEGER PRIMARY KEY; 2^31 events is ample.
  @PrimaryGeneratedColumn({ type: 'integer' }) id!: number;
  /** The user the event is about: the ordering and sharding key. */
  @Index() @Column({ type: 'varchar', length: 255 }) user_key!: string;
  @Column({ type: 'varchar', length: 64 }) kind!: string;
  @Column({ type: 'simple-json' }) payload!: Record<string, unknown>;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() published_at!: number | null;
  @NullableTimestampColumn() delivered_at!: number | null;
}
