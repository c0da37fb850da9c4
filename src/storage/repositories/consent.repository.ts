import type { Database, Tx } from '../database.service.js';
import { ConsentEntity } from '../entities/index.js';

/** What a user allowed a client (the scopes consent covers, sorted). */
export interface ConsentRecord {
  id: string;
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
}

/** One consent per user and client, widened as the user allows more. */
export class ConsentRepository {
  constructor(private readonly db: Database) {}

  /** Read in `tx` when given, else outside any transaction. */
  async find(userId: string, clientId: string, tx?: Tx): Promise<ConsentRecord | undefined> {
    const e = await (tx ?? this.db.manager).findOneBy(ConsentEntity, { user_id: userId, client_id: clientId });
    return e ? { id: e.id, userId: e.user_id, clientId: e.client_id, scopes: e.scopes, createdAt: e.created_at, updatedAt: e.updated_at } : undefined;
  }

  async insert(tx: Tx, c: ConsentRecord): Promise<void> {
    await tx.insert(ConsentEntity, { id: c.id, user_id: c.userId, client_id: c.clientId, scopes: c.scopes, created_at: c.createdAt, updated_at: c.updatedAt });
  }

  async setScopes(tx: Tx, id: string, scopes: string[], at: number): Promise<void> {
    await tx.update(ConsentEntity, { id }, { scopes, updated_at: at });
  }
}
