import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn, References } from '../columns.js';
import { UserEntity } from './user.entity.js';

export type DeviceCodeState = 'pending' | 'approved' | 'denied' | 'exchanged';

/** RFC 8628 device authorization. */
@Entity('device_codes')
export class DeviceCodeEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 64 }) device_code_hash!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 16 }) user_code!: string;
  @Column({ type: 'varchar', length: 128 }) client_id!: string;
  @Column({ type: 'text' }) scope!: string;
  @Column({ type: 'varchar', length: 16 }) state!: DeviceCodeState;
  @Column({ ...IdColumnType, nullable: true, default: null }) user_id!: string | null;
  @Column({ ...IdColumnType, nullable: true, default: null }) browser_session_id!: string | null;
  @Column({ ...IdColumnType, nullable: true, default: null }) session_id!: string | null;
  @TimestampColumn() created_at!: number;
  @Index() @TimestampColumn() expires_at!: number;
  @NullableTimestampColumn() last_polled_at!: number | null;
  @Column({ type: 'integer', default: 5 }) interval!: number;
  @References(() => UserEntity, 'user_id', 'NO ACTION') readonly user?: never;
}
