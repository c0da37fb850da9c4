import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { NullableTimestampColumn, TimestampColumn } from '../columns.js';

/** An OAuth client: static (from YAML, synced at start-up) or dynamic (RFC 7591 / MSC2966). */
@Entity('clients')
export class ClientEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 }) client_id!: string;
  @Column({ type: 'varchar', length: 16 }) origin!: 'static' | 'dynamic';
  /** Registered metadata as returned by the registration endpoint. */
  @Column({ type: 'simple-json' }) metadata!: Record<string, unknown>;
  /** SHA-256 of the canonical metadata: identical public registrations share one client_id. */
  @Index() @Column({ type: 'varchar', length: 64, nullable: true, default: null }) metadata_hash!: string | null;
  @Column({ type: 'varchar', length: 128, nullable: true, default: null }) secret_hash!: string | null;
  @TimestampColumn() created_at!: number;
  @NullableTimestampColumn() last_used_at!: number | null;
}
