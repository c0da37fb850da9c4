import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { CLIENT_ID_PATTERN, type StaticClientConfig } from '../../config/sections/clients.config.js';
import { Database } from '../../storage/database.service.js';
import { ClientRepository, type ClientRecord } from '../../storage/repositories/client.repository.js';
import { randomAlphanumeric, sha256Hex } from '../../crypto/token-format.js';
import { ulid } from '../../storage/ulid.js';
import type { OAuthClient, ClientAuthMethod } from './client.js';
import { canonicalJson, type RegisteredMetadata } from '../registration/client-metadata.js';
import { InvalidClientMetadataError } from '../errors.js';
import { registrationRefusal } from './client-policy.js';

/**
 * Client lookup for every endpoint. Static clients (YAML `clients:`) are held in memory and synced
 * into the `clients` table at start-up; dynamic clients (DCR) are read from the table and cached
 * (a registration never changes once made).
 */
@Injectable()
export class ClientService implements OnApplicationBootstrap {
  private readonly statics: Map<string, OAuthClient>;
  private readonly cache = new LRUCache<string, OAuthClient>({ max: 10_000, ttl: 5 * 60_000 });

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly repo: ClientRepository,
  ) {
    this.statics = new Map(config.clients.map((c) => [c.client_id, fromStatic(c)]));
  }

  async onApplicationBootstrap() {
    await this.syncStaticClients();
  }

  /** Upserts the YAML clients and removes static rows no longer declared. */
  async syncStaticClients(): Promise<void> {
    await this.repo.syncStatic([...this.statics.values()].map((c) => ({ clientId: c.clientId, metadata: c.metadata, secretHash: c.secretHash ?? null })));
  }

  async find(clientId: string): Promise<OAuthClient | undefined> {
    if (typeof clientId !== 'string' || !CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const s = this.statics.get(clientId);
    if (s) return s;
    const cached = this.cache.get(clientId);
    if (cached) return cached;
    const row = await this.repo.findDynamic(clientId);
    if (!row) return undefined;
    const client = fromDynamic(row);
    this.cache.set(clientId, client);
    return client;
  }

  /**
   * Stores a dynamic registration. Identical public registrations share one client (clients
   * register again for every login); confidential ones always get a new id and secret.
   */
  async register(metadata: RegisteredMetadata): Promise<{ clientId: string; issuedAt: number; secret?: string }> {
    const isPublicClient = metadata.token_endpoint_auth_method === 'none';
    const hash = sha256Hex(canonicalJson(metadata));
    return this.db.transaction(async (em) => {
      const same = isPublicClient ? await this.repo.findPublicByHash(em, hash) : undefined;
      const refusal = registrationRefusal(this.config.policy, metadata, same?.clientId);
      if (refusal) throw new InvalidClientMetadataError(refusal);
      if (same) return { clientId: same.clientId, issuedAt: Math.floor(same.createdAt / 1000) };
      const now = Date.now();
      const clientId = ulid(now);
      const secret = isPublicClient ? undefined : randomAlphanumeric(48);
      await this.repo.insertDynamic(em, { clientId, metadata: metadata as unknown as Record<string, unknown>, metadataHash: isPublicClient ? hash : null, secretHash: secret ? sha256Hex(secret) : null, createdAt: now });
      return { clientId, issuedAt: Math.floor(now / 1000), secret };
    });
  }

  /** Every client (static and dynamic) in client_id order, after `after`. */
  async list(page: { after?: string; limit: number }): Promise<{ client: OAuthClient; createdAt: number; lastUsedAt: number | null }[]> {
    const rows = await this.repo.list(page);
    return rows.map((r) => ({ client: this.statics.get(r.clientId) ?? fromDynamic(r), createdAt: r.createdAt, lastUsedAt: r.lastUsedAt }));
  }

  async row(clientId: string): Promise<{ createdAt: number; lastUsedAt: number | null } | undefined> {
    const r = await this.repo.find(clientId);
    return r ? { createdAt: r.createdAt, lastUsedAt: r.lastUsedAt } : undefined;
  }

  /**
   * Removes a dynamically registered client (static ones come from the configuration). Other
   * replicas may still know it from their cache for up to 5 minutes; its sessions are ended by the caller.
   */
  async deleteDynamic(clientId: string): Promise<boolean> {
    const deleted = await this.repo.deleteDynamic(clientId);
    this.cache.delete(clientId);
    return deleted;
  }

  /** Static clients allowed to call introspection (legacy Synapse). */
  staticClient(clientId: string): OAuthClient | undefined {
    return this.statics.get(clientId);
  }
}

function fromStatic(c: StaticClientConfig): OAuthClient {
  const metadata: Record<string, unknown> = {
    client_name: c.client_name,
    redirect_uris: c.redirect_uris,
    grant_types: c.grant_types,
    token_endpoint_auth_method: c.client_auth_method,
  };
  return {
    clientId: c.client_id,
    origin: 'static',
    applicationType: 'web',
    redirectUris: c.redirect_uris,
    grantTypes: c.grant_types,
    authMethod: c.client_auth_method,
    secretHash: c.client_secret ? sha256Hex(c.client_secret) : undefined,
    introspection: c.introspection,
    clientCredentialsScopes: c.client_credentials_scopes,
    ...(c.allowed_scopes ? { allowedScopes: c.allowed_scopes } : {}),
    metadata: JSON.parse(JSON.stringify(metadata)),
  };
}

function fromDynamic(row: ClientRecord): OAuthClient {
  const m = row.metadata as Partial<RegisteredMetadata>;
  return {
    clientId: row.clientId,
    origin: 'dynamic',
    applicationType: m.application_type ?? 'web',
    redirectUris: m.redirect_uris ?? [],
    grantTypes: m.grant_types ?? [],
    authMethod: (m.token_endpoint_auth_method ?? 'none') as ClientAuthMethod,
    secretHash: row.secretHash ?? undefined,
    introspection: false,
    clientCredentialsScopes: [],
    idTokenAlg: m.id_token_signed_response_alg,
    metadata: row.metadata,
  };
}
