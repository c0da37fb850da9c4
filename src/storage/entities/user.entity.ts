import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, NullableTimestampColumn, TimestampColumn } from '../columns.js';

@Entity('users')
export class UserEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  /** Matrix localpart (lower-case by the user id grammar). */
  @Index({ unique: true }) @Column({ type: 'varchar', length: 255 }) localpart!: string;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() locked_at!: number | null;
  @NullableTimestampColumn() deactivated_at!: number | null;
  @Column({ type: 'boolean', default: false }) can_request_admin!: boolean;
  @Column({ type: 'varchar', length: 256, nullable: true, default: null }) display_name!: string | null;
  @Column({ type: 'varchar', length: 320, nullable: true, default: null }) email!: string | null;
}
