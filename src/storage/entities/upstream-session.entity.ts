import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';
import { BrowserSessionEntity } from './browser-session.entity.js';

/**
 * One sign-in at an upstream IdP, kept so inbound logout (OIDC sid/sub, SAML SessionIndex/NameID,
 * CAS ticket) can find every Causeway session born from it.
 */
@Entity('upstream_sessions')
@Index(['provider_id', 'upstream_sid'])
@Index(['provider_id', 'subject'])
export class UpstreamSessionEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Column({ type: 'varchar', length: 64 }) provider_id!: string;
  @Column({ type: 'varchar', length: 512 }) subject!: string;
  @Index() @Column(IdColumnType) user_id!: string;
  /** OIDC `sid`, SAML SessionIndex, CAS service ticket. */
  @Column({ type: 'varchar', length: 512, nullable: true, default: null }) upstream_sid!: string | null;
  /** SAML NameID (format + value) or similar, for logout requests. */
  @Column({ type: 'simple-json', nullable: true, default: null }) details!: Record<string, unknown> | null;
  @Index() @Column({ ...IdColumnType, nullable: true, default: null }) browser_session_id!: string | null;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() ended_at!: number | null;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
  @References(() => BrowserSessionEntity, 'browser_session_id', 'CASCADE') readonly browserSession?: never;
}
