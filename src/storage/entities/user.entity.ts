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
  /** Set through the admin API, the CLI or an import (Synapse's per-user admin flag): may request `urn:synapse:admin:*`. */
  @Column({ type: 'boolean', default: false }) can_request_admin!: boolean;
  /** Set at each sign-in by a provider's `admin` rule (e.g. an IdP group): may request `urn:synapse:admin:*` too. */
  @Column({ type: 'boolean', default: false }) idp_admin!: boolean;
  @Column({ type: 'varchar', length: 256, nullable: true, default: null }) display_name!: string | null;
  /** The email the upstream IdP asserted (claims mapping); every address of the user is in user_emails. */
  @Column({ type: 'varchar', length: 320, nullable: true, default: null }) email!: string | null;
  /**
   * When `causeway import synapse` imported this account: its homeserver account existed before
   * Causeway, so the homeserver may hold devices Causeway never saw. Sign-outs of such an account
   * delete exactly the devices whose sessions ended and never send a full `sync_devices`, which
   * would sweep those devices (docs/operator/synapse-migration.md, "Devices").
   */
  @NullableTimestampColumn() imported_at?: number | null;
  /** The version of the terms of service (`branding.tos_version`) the user last accepted, and when. */
  @Column({ type: 'varchar', length: 64, nullable: true, default: null }) terms_version?: string | null;
  @NullableTimestampColumn() terms_accepted_at?: number | null;
}
