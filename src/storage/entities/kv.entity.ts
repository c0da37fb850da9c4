import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../columns.js';

/**
 * Short-lived keyed values when Redis is not configured: login machine snapshots, single-use
 * upstream states, replay caches (jti, SAML assertion ids, CAS tickets).
 */
@Entity('kv_entries')
export class KvEntryEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 }) key!: string;
  @Column({ type: 'text' }) value!: string;
  @Index() @TimestampColumn() expires_at!: number;
}
