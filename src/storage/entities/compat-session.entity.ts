import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';
import { BrowserSessionEntity } from './browser-session.entity.js';

/**
 * One session of the legacy `/login` API (MSC3824 compatibility layer): a user signed in on one
 * Matrix device through `m.login.token` after an SSO login in the browser.
 */
@Entity('compat_sessions')
@Index(['user_id', 'device_id'])
@Index('IDX_compat_sessions_live_activity', ['last_active_at'], { where: 'finished_at IS NULL' })
@Index('IDX_compat_sessions_finished', ['finished_at'], { where: 'finished_at IS NOT NULL' })
export class CompatSessionEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index() @Column(IdColumnType) user_id!: string;
  @Column({ type: 'varchar', length: 255 }) device_id!: string;
  /** `initial_device_display_name` from the login request. */
  @Column({ type: 'varchar', length: 256, nullable: true, default: null }) human_name!: string | null;
  /** The browser session whose SSO login produced the login token (upstream logout ends this session too). */
  @Index() @Column({ ...IdColumnType, nullable: true, default: null }) browser_session_id!: string | null;
  /** Host of the SSO `redirectUrl` the login token was sent to (shown on the account page). */
  @Column({ type: 'varchar', length: 255, nullable: true, default: null }) redirect_host!: string | null;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() finished_at!: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) finish_reason!: string | null;
  /** The last use of the session (`/login`, `/refresh`, an introspection: SessionActivity writes those about once a minute), and the client address of the last `/login` or `/refresh`. */
  @NullableTimestampColumn() last_active_at!: number | null;
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) last_active_ip!: string | null;
  /** When `causeway import synapse` made this session from a Synapse device (its tokens are Synapse's). */
  @NullableTimestampColumn() imported_at?: number | null;
  /**
   * The device's user was a Synapse admin (`users.admin`) when the session was imported: its tokens
   * keep granting `urn:synapse:admin:*`, as they did before the switch (MAS's is_synapse_admin).
   */
  @Column({ type: 'boolean', default: false }) synapse_admin?: boolean;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
  @References(() => BrowserSessionEntity, 'browser_session_id', 'SET NULL') readonly browserSession?: never;
}
