import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';
import { BrowserSessionEntity } from './browser-session.entity.js';

/** One OAuth 2.0 session: a client signed in as a user on one Matrix device (or a client_credentials session). */
@Entity('oauth2_sessions')
@Index(['user_id', 'device_id'])
// Lifecycle sweeps (idle and expired live sessions) and retention (finished long ago): each reads one index.
@Index('IDX_oauth2_sessions_live_activity', ['last_active_at'], { where: 'finished_at IS NULL' })
@Index('IDX_oauth2_sessions_live_expiry', ['expires_at'], { where: 'finished_at IS NULL' })
@Index('IDX_oauth2_sessions_finished', ['finished_at'], { where: 'finished_at IS NOT NULL' })
export class OAuth2SessionEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index() @Column({ ...IdColumnType, nullable: true, default: null }) user_id!: string | null;
  @Index() @Column({ type: 'varchar', length: 128 }) client_id!: string;
  @Column({ type: 'varchar', length: 255, nullable: true, default: null }) device_id!: string | null;
  /** Granted scope, space separated, in the namespace the client asked for. */
  @Column({ type: 'text' }) scope!: string;
  @Column({ type: 'varchar', length: 64 }) grant_type!: string;
  @Index() @Column({ ...IdColumnType, nullable: true, default: null }) browser_session_id!: string | null;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() last_active_at!: number | null;
  /** After this no token of the session can be used or refreshed (null: never); the lifecycle sweep then ends it. */
  @NullableTimestampColumn() expires_at!: number | null;
  @NullableTimestampColumn() finished_at!: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) finish_reason!: string | null;
  /** The device's (or personal token's) name, as set by an admin rename or at personal token creation. */
  @Column({ type: 'varchar', length: 256, nullable: true, default: null }) human_name!: string | null;
  /** Client address at the last token request (creation, refresh); behind a proxy per `http.trust_proxy`. */
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) last_active_ip!: string | null;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
  @References(() => BrowserSessionEntity, 'browser_session_id', 'SET NULL') readonly browserSession?: never;
}
