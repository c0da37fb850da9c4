import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { OAuth2SessionEntity } from './oauth2-session.entity.js';

/** An access token, known only by the SHA-256 of its value. */
@Entity('access_tokens')
export class AccessTokenEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64 }) token_hash!: string;
  @Index() @Column(IdColumnType) session_id!: string;
  @TimestampColumn() created_at!: number;
  @Index() @NullableTimestampColumn() expires_at!: number | null;
  @NullableTimestampColumn() revoked_at!: number | null;
  @NullableTimestampColumn() first_used_at!: number | null;
  @References(() => OAuth2SessionEntity, 'session_id', 'CASCADE') readonly session?: never;
}
