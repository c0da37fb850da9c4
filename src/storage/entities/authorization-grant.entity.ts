import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

/** An authorization code and everything it is bound to. Single use. */
@Entity('authorization_grants')
export class AuthorizationGrantEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64 }) code_hash!: string;
  @Column({ type: 'varchar', length: 128 }) client_id!: string;
  @Column({ type: 'text' }) redirect_uri!: string;
  @Column({ type: 'text' }) scope!: string;
  @Column({ type: 'varchar', length: 128 }) code_challenge!: string;
  @Column({ type: 'varchar', length: 512, nullable: true, default: null }) nonce!: string | null;
  @Column(IdColumnType) user_id!: string;
  @Column({ ...IdColumnType, nullable: true, default: null }) browser_session_id!: string | null;
  @NullableTimestampColumn() auth_time!: number | null;
  @TimestampColumn() created_at!: number;
  @Index() @TimestampColumn() expires_at!: number;
  @NullableTimestampColumn() used_at!: number | null;
  /** The session the code was exchanged for (revoked on code replay). */
  @Column({ ...IdColumnType, nullable: true, default: null }) session_id!: string | null;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
