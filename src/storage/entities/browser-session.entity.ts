import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

/** A user signed in at Causeway in one browser (the cookie session). */
@Entity('browser_sessions')
@Index('IDX_browser_sessions_live_created', ['created_at'], { where: 'finished_at IS NULL' })
@Index('IDX_browser_sessions_live_activity', ['last_active_at'], { where: 'finished_at IS NULL' })
@Index('IDX_browser_sessions_finished', ['finished_at'], { where: 'finished_at IS NOT NULL' })
export class BrowserSessionEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index() @Column(IdColumnType) user_id!: string;
  @Column({ type: 'varchar', length: 64 }) provider_id!: string;
  @Column({ ...IdColumnType, nullable: true, default: null }) upstream_session_id!: string | null;
  @TimestampColumn() created_at!: number;
  @TimestampColumn() authenticated_at!: number;
  /** Last use of the cookie (recorded at most once a minute). */
  @NullableTimestampColumn() last_active_at!: number | null;
  @NullableTimestampColumn() finished_at!: number | null;
  @Column({ type: 'varchar', length: 512, nullable: true, default: null }) user_agent!: string | null;
  /** The browser's address when the sign-in started. */
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) last_active_ip!: string | null;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
