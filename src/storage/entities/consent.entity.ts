import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

/** What a user has allowed a client (scope tokens without device ids). */
@Entity('consents')
@Index(['user_id', 'client_id'], { unique: true })
export class ConsentEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Column(IdColumnType) user_id!: string;
  @Column({ type: 'varchar', length: 128 }) client_id!: string;
  @Column({ type: 'simple-json' }) scopes!: string[];
  @TimestampColumn() created_at!: number;
  @TimestampColumn() updated_at!: number;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
