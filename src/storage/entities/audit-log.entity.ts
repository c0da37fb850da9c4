import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumnType, TimestampColumn } from '../columns.js';

/**
 * Who did what to whom: sign-in attempts, consents, code and token issuance, refresh-token reuse,
 * upstream logouts, sign-outs, admin actions. Never holds secrets. Written through the audit
 * module's AuditLog (or by the hot sign-out statements, which add their rows in SQL).
 */
@Entity('audit_log')
export class AuditLogEntity {
  @PrimaryColumn(IdColumnType) id!: string;
  @Column({ type: 'varchar', length: 128 }) actor!: string;
  @Column({ type: 'varchar', length: 64 }) action!: string;
  @Index() @Column({ type: 'varchar', length: 255, nullable: true, default: null }) target!: string | null;
  /** The account the event concerns, when there is one (the admin API's "audit of a user"). */
  @Index() @Column({ type: 'varchar', length: 26, nullable: true, default: null }) user_id!: string | null;
  @Column({ type: 'simple-json', nullable: true, default: null }) details!: Record<string, unknown> | null;
  @Index() @TimestampColumn() created_at!: number;
}
