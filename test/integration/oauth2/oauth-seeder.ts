/**
 * INTEGRATION HELPER — seeds users and authorization codes through Causeway's own OAuth service
 * layer (AuthorizationService.validate + complete), against the same database as a running
 * server, for the token-endpoint tests that need a code but not the sign-in pages. It is not the
 * proof of the interactive flow: the end-to-end tests drive /authorize and the login pages with a
 * browser. Users are inserted directly (the identity module owns their creation).
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { loadConfigFile } from '../../../src/config/config.loader.js';
import { gatewayConfigSchema } from '../../../src/upstream/gateway-config.schema.js';
import type { GatewayConfig } from '../../../src/config/config.schema.js';
import { openDataSource } from '../../../src/storage/data-source.js';
import { Database } from '../../../src/storage/database.service.js';
import { UserEntity, BrowserSessionEntity } from '../../../src/storage/entities/index.js';
import { ulid } from '../../../src/storage/ulid.js';
import { ClientService } from '../../../src/oauth2/clients/client.service.js';
import { AuditLogRepository } from '../../../src/storage/repositories/audit-log.repository.js';
import { ConsentRepository } from '../../../src/storage/repositories/consent.repository.js';
import { AuthorizationGrantRepository } from '../../../src/storage/repositories/authorization-grant.repository.js';
import { DeviceCodeRepository } from '../../../src/storage/repositories/device-code.repository.js';
import { UserRepository } from '../../../src/storage/repositories/user.repository.js';
import { ClientRepository } from '../../../src/storage/repositories/client.repository.js';
import { AuthorizationService } from '../../../src/oauth2/authorize/authorization.service.js';
import { DeviceAuthorizationService } from '../../../src/oauth2/device/device-authorization.service.js';
import { DeviceProvisioner } from '../../../src/oauth2/homeserver/device-provisioner.js';
import { createHomeserverAdapter } from '../../../src/homeserver/homeserver.factory.js';
import type { SignedInUser, BrowserSessionRef } from '../../../src/oauth2/oauth2.contracts.js';
import type { CausewayProcess } from '../../support/causeway.js';

export interface Pkce {
  verifier: string;
  challenge: string;
}
export function pkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export class OAuthSeeder {
  private constructor(
    readonly config: GatewayConfig,
    readonly dataSource: DataSource,
    readonly db: Database,
    readonly authorizations: AuthorizationService,
    readonly devices: DeviceAuthorizationService,
  ) {}

  /** Opens the database of a running server with the server's own config file. */
  static async open(cw: CausewayProcess): Promise<OAuthSeeder> {
    const config = loadConfigFile(join(cw.dir, `gateway-${cw.port}.yaml`), gatewayConfigSchema);
    // The same homeserver client the server uses (matrix.api), talking to the test's stand-in.
    const homeserver = createHomeserverAdapter(config.matrix);
    const dataSource = await openDataSource({ url: config.database.url, schema: config.database.schema });
    const db = new Database(dataSource, config.database.url);
    const clients = new ClientService(config, db, new ClientRepository(db));
    const provisioner = new DeviceProvisioner(homeserver, pino({ level: 'silent' }));
    const authorizations = new AuthorizationService(config, db, clients, provisioner, new AuditLogRepository(db), new UserRepository(db), new ConsentRepository(db), new AuthorizationGrantRepository());
    const devices = new DeviceAuthorizationService(config, db, provisioner, authorizations, new DeviceCodeRepository(db));
    return new OAuthSeeder(config, dataSource, db, authorizations, devices);
  }

  async close() {
    await this.dataSource.destroy();
  }

  async user(localpart = `u${randomBytes(4).toString('hex')}`, fields: Partial<UserEntity> = {}): Promise<SignedInUser & { session: BrowserSessionRef }> {
    const now = Date.now();
    const id = ulid(now);
    await this.db.transaction(async (em) => {
      await em.insert(UserEntity, { id, localpart, created_at: now, locked_at: null, deactivated_at: null, can_request_admin: false, display_name: null, email: null, ...fields });
    });
    const session = await this.browserSession(id);
    return { userId: id, localpart, session };
  }

  async browserSession(userId: string): Promise<BrowserSessionRef> {
    const now = Date.now();
    const id = ulid(now);
    await this.db.transaction((em) => em.insert(BrowserSessionEntity, { id, user_id: userId, provider_id: 'dev', upstream_session_id: null, created_at: now, authenticated_at: now, finished_at: null, user_agent: null }));
    return { id, authenticatedAt: now };
  }

  /** validate() + complete(): the redirect URL the browser would be sent to, its code, and the PKCE verifier. */
  async authorize(params: Record<string, string>, user: SignedInUser & { session: BrowserSessionRef }): Promise<{ location: string; code: string; verifier: string; state?: string }> {
    const p = pkce();
    const req = await this.authorizations.validate({ response_type: 'code', code_challenge_method: 'S256', code_challenge: p.challenge, ...params });
    const location = await this.authorizations.complete(req, user, user.session);
    const u = new URL(location);
    const result = new URLSearchParams(req.responseMode === 'fragment' ? u.hash.slice(1) : u.search);
    return { location, code: result.get('code') ?? '', verifier: p.verifier, state: result.get('state') ?? undefined };
  }
}
