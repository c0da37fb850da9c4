import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { OAuth2SessionEntity } from './oauth2-session.entity.js';

/** A refresh token. Rotation: on use it is consumed and points at its successor. */
@Entity('refresh_tokens')
@Index('IDX_refresh_tokens_consumed', ['consumed_at'], { where: 'consumed_at IS NOT NULL' })
export class RefreshTokenEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64 }) token_hash!: string;
  @Index() @Column(IdColumnType) session_id!: string;
  /** The access token issued together with this refresh token. */
  @Index() @Column(IdColumnType) access_token_id!: string;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() expires_at!: number | null;
  @NullableTimestampColumn() consumed_at!: number | null;
  @Column({ ...IdColumnType, nullable: true, default: null }) next_refresh_token_id!: string | null;
  @NullableTimestampColumn() revoked_at!: number | null;
  @References(() => OAuth2SessionEntity, 'session_id', 'CASCADE') readonly session?: never;
}
