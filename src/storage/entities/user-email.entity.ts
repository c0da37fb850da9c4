import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

/** An email address of a user (pre-provisioned by an admin, or asserted by the upstream IdP). */
@Entity('user_emails')
@Index(['user_id', 'email'], { unique: true })
export class UserEmailEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Column(IdColumnType) user_id!: string;
  /** Stored lower-cased (searches are exact on it). */
  @Index() @Column({ type: 'varchar', length: 320 }) email!: string;
  @TimestampColumn() created_at!: number;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
