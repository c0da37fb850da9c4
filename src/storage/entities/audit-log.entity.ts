import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn } from '../columns.js';

/** Who did what to whom (admin actions, sign-outs, deactivations). Never holds secrets. */
@Entity('audit_log')
export class AuditLogEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Column({ type: 'varchar', length: 128 }) actor!: string;
  @Column({ type: 'varchar', length: 64 }) action!: string;
  @Index() @Column({ type: 'varchar', length: 255, nullable: true, default: null }) target!: string | null;
  @Column({ type: 'simple-json', nullable: true, default: null }) details!: Record<string, unknown> | null;
  @Index() @TimestampColumn() created_at!: number;
}
