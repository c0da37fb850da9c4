import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

/** An upstream identity (provider + subject) attached to a user. */
@Entity('upstream_links')
@Index(['provider_id', 'subject'], { unique: true })
export class UpstreamLinkEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Column({ type: 'varchar', length: 64 }) provider_id!: string;
  @Column({ type: 'varchar', length: 512 }) subject!: string;
  @Index() @Column(IdColumnType) user_id!: string;
  @TimestampColumn() created_at!: number;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
