import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn } from '../columns.js';

/** A user signed in at Causeway in one browser (the cookie session). */
@Entity('browser_sessions')
export class BrowserSessionEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index() @Column(IdColumnType) user_id!: string;
  @Column({ type: 'varchar', length: 64 }) provider_id!: string;
  @Column({ ...IdColumnType, nullable: true, default: null }) upstream_session_id!: string | null;
  @TimestampColumn() created_at!: number;
  @TimestampColumn() authenticated_at!: number;
  @NullableTimestampColumn() finished_at!: number | null;
  @Column({ type: 'varchar', length: 512, nullable: true, default: null }) user_agent!: string | null;
  /** The browser's address when the sign-in started. */
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) last_active_ip!: string | null;
}
