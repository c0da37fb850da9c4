import { Column, Entity, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

/**
 * `causeway import synapse` bookkeeping: one row per Synapse user it has applied, with a digest of
 * everything it read about that user (account flags, profile, emails, external ids, devices,
 * tokens). A later run applies only users whose digest changed, so the run after stopping Synapse
 * (the downtime) reads Synapse once and writes only what is new.
 */
@Entity('synapse_import_users')
export class SynapseImportUserEntity {
  /** The Synapse user id (`@localpart:server`). */
  @PrimaryColumn({ type: 'varchar', length: 255 }) synapse_user_id!: string;
  @Column(IdColumnType) user_id!: string;
  /** SHA-256 (hex) of the user's rows as read from Synapse. */
  @Column({ type: 'varchar', length: 64 }) digest!: string;
  @TimestampColumn() updated_at!: number;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
