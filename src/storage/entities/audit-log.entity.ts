import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn } from '../columns.js';

/** Who did what to whom (admin actions, sign-outs, deactivations). Never holds secrets. */
@Entity('audit_log')
export class AuditLogEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  /** Who did it: `admin-token`, `user:<id>` (an OAuth admin token), `client:<client_id>`, `cli:<os user>`, `system`, `upstream:<provider>`. */
  @Index() @Column({ type: 'varchar', length: 128 }) actor!: string;
  @Column({ type: 'varchar', length: 64 }) action!: string;
  @Index() @Column({ type: 'varchar', length: 255, nullable: true, default: null }) target!: string | null;
  /** The Causeway user the action concerns, when there is one (audit queries by user). */
  @Index() @Column({ type: 'varchar', length: 26, nullable: true, default: null }) user_id!: string | null;
  @Column({ type: 'simple-json', nullable: true, default: null }) details!: Record<string, unknown> | null;
  @Index() @TimestampColumn() created_at!: number;
}
