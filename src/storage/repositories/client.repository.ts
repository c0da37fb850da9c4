import { In, Not } from 'typeorm';
import type { Database, Tx } from '../database.service.js';
import { ClientEntity } from '../entities/index.js';

/** A row of the clients table: a static client (from YAML, synced at start-up) or a dynamic registration. */
export interface ClientRecord {
  clientId: string;
  origin: 'static' | 'dynamic';
  /** Registered metadata as the registration endpoint returned it. */
  metadata: Record<string, unknown>;
  /** SHA-256 of the canonical metadata (public dynamic clients only). */
  metadataHash: string | null;
  secretHash: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

const toRecord = (r: ClientEntity): ClientRecord => ({
  clientId: r.client_id,
  origin: r.origin,
  metadata: r.metadata,
  metadataHash: r.metadata_hash,
  secretHash: r.secret_hash,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

/** The clients aggregate: one row per client, static or dynamic. */
export class ClientRepository {
  constructor(private readonly db: Database) {}

  /** One transaction: upserts the static clients declared now and deletes the static rows no longer declared. */
  async syncStatic(clients: readonly { clientId: string; metadata: Record<string, unknown>; secretHash: string | null }[], now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const c of clients) {
        const row = { origin: 'static' as const, metadata: c.metadata as never, metadata_hash: null, secret_hash: c.secretHash };
        if (await tx.existsBy(ClientEntity, { client_id: c.clientId })) await tx.update(ClientEntity, { client_id: c.clientId }, row);
        else await tx.insert(ClientEntity, { client_id: c.clientId, ...row, created_at: now, last_used_at: null });
      }
      await tx.delete(ClientEntity, { origin: 'static', client_id: Not(In([...clients.map((c) => c.clientId), ''])) });
    });
  }

  async find(clientId: string): Promise<ClientRecord | undefined> {
    const r = await this.db.manager.findOneBy(ClientEntity, { client_id: clientId });
    return r ? toRecord(r) : undefined;
  }

  async findDynamic(clientId: string): Promise<ClientRecord | undefined> {
    const r = await this.db.manager.findOneBy(ClientEntity, { client_id: clientId, origin: 'dynamic' });
    return r ? toRecord(r) : undefined;
  }

  /** A public dynamic registration with this metadata hash (identical registrations share one client). */
  async findPublicByHash(tx: Tx, hash: string): Promise<ClientRecord | undefined> {
    const r = await tx.findOneBy(ClientEntity, { metadata_hash: hash, origin: 'dynamic' });
    return r ? toRecord(r) : undefined;
  }

  async insertDynamic(tx: Tx, c: { clientId: string; metadata: Record<string, unknown>; metadataHash: string | null; secretHash: string | null; createdAt: number }): Promise<void> {
    await tx.insert(ClientEntity, { client_id: c.clientId, origin: 'dynamic', metadata: c.metadata as never, metadata_hash: c.metadataHash, secret_hash: c.secretHash, created_at: c.createdAt, last_used_at: null });
  }

  /** Every client in client_id order, after `after`. */
  async list(page: { after?: string; limit: number }): Promise<ClientRecord[]> {
    const q = this.db.manager.createQueryBuilder(ClientEntity, 'c');
    if (page.after) q.where('c.client_id > :after', { after: page.after });
    return (await q.orderBy('c.client_id', 'ASC').take(page.limit).getMany()).map(toRecord);
  }

  /** Whether a dynamic client was deleted. */
  async deleteDynamic(clientId: string): Promise<boolean> {
    const r = await this.db.transaction((tx) => tx.delete(ClientEntity, { client_id: clientId, origin: 'dynamic' }));
    return !!r.affected;
  }
}
