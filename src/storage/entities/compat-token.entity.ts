import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { CompatSessionEntity } from './compat-session.entity.js';

/**
 * A compat access token (`mct_`) and, when the client asked for one, its refresh token (`mcr_`),
 * both known only by their SHA-256. A refresh consumes the row's refresh token, expires its access
 * token at once and points at the pair that replaced it.
 */
@Entity('compat_tokens')
@Index('IDX_compat_tokens_consumed', ['refresh_consumed_at'], { where: 'refresh_consumed_at IS NOT NULL' })
export class CompatTokenEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index() @Column(IdColumnType) session_id!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64 }) access_token_hash!: string;
  /** Null when the login did not ask for `refresh_token: true`. */
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64, nullable: true, default: null }) refresh_token_hash!: string | null;
  @TimestampColumn() created_at!: number;
  /** Expiry of the access token: null (never) unless the token is refreshable. */
  @NullableTimestampColumn() expires_at!: number | null;
  /** Both tokens revoked (the session ended, or revocation). */
  @NullableTimestampColumn() revoked_at!: number | null;
  @NullableTimestampColumn() refresh_consumed_at!: number | null;
  @Column({ ...IdColumnType, nullable: true, default: null }) next_token_id!: string | null;
  /** Imported from Synapse (`syt_`/`syr_` or a macaroon): a later import run revokes it once Synapse dropped it. */
  @NullableTimestampColumn() imported_at?: number | null;
  @References(() => CompatSessionEntity, 'session_id', 'CASCADE') readonly session?: never;
}
