import type { Database, Tx } from '../database.service.js';
import { UpstreamLinkEntity } from '../entities/index.js';
import { ulid } from '../ulid.js';

/** An upstream identity (provider + subject, unique) attached to a user (identity's `UpstreamLink`). */
export interface UpstreamLinkRecord {
  id: string;
  providerId: string;
  subject: string;
  userId: string;
  createdAt: number;
}

const toRecord = (e: UpstreamLinkEntity): UpstreamLinkRecord => ({ id: e.id, providerId: e.provider_id, subject: e.subject, userId: e.user_id, createdAt: Number(e.created_at) });

/**
 * The users' upstream links (part of the users aggregate: every link belongs to a user). Methods
 * taking a `Tx` run in the caller's transaction; the others read committed state unless given one.
 */
export class UpstreamLinkRepository {
  constructor(private readonly db: Database) {}

  async find(providerId: string, subject: string, tx: Tx = this.db.manager): Promise<UpstreamLinkRecord | undefined> {
    const e = await tx.findOneBy(UpstreamLinkEntity, { provider_id: providerId, subject });
    return e ? toRecord(e) : undefined;
  }

  async findById(id: string, tx: Tx = this.db.manager): Promise<UpstreamLinkRecord | undefined> {
    const e = await tx.findOneBy(UpstreamLinkEntity, { id });
    return e ? toRecord(e) : undefined;
  }

  /** Oldest first. */
  async forUser(userId: string, tx: Tx = this.db.manager): Promise<UpstreamLinkRecord[]> {
    return (await tx.find(UpstreamLinkEntity, { where: { user_id: userId }, order: { id: 'ASC' } })).map(toRecord);
  }

  /** A second link for the same provider + subject fails on the unique index. */
  async insert(tx: Tx, l: { providerId: string; subject: string; userId: string }, now = Date.now()): Promise<UpstreamLinkRecord> {
    const row: UpstreamLinkEntity = { id: ulid(now), provider_id: l.providerId, subject: l.subject, user_id: l.userId, created_at: now };
    await tx.insert(UpstreamLinkEntity, row);
    return toRecord(row);
  }

  /** Removes the user's links of one provider; returns them. */
  async removeForProvider(tx: Tx, userId: string, providerId: string): Promise<UpstreamLinkRecord[]> {
    const rows = await tx.findBy(UpstreamLinkEntity, { user_id: userId, provider_id: providerId });
    if (rows.length)
      await tx.delete(
        UpstreamLinkEntity,
        rows.map((r) => r.id),
      );
    return rows.map(toRecord);
  }

  async remove(tx: Tx, id: string): Promise<void> {
    await tx.delete(UpstreamLinkEntity, { id });
  }

  /** A new subject for the same link (the IdP re-keyed its users); a taken one fails on the unique index. */
  async setSubject(tx: Tx, id: string, subject: string): Promise<void> {
    await tx.update(UpstreamLinkEntity, { id }, { subject });
  }
}
