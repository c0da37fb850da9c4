import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Database } from './database.service.js';
import { DbKeyValueStore, KeyValueStore, RedisKeyValueStore } from './kv-store.js';
import { AuditLogRepository, type AuditOrigin } from './repositories/audit-log.repository.js';
import { SessionRepository } from './repositories/session.repository.js';
import { UserRepository } from './repositories/user.repository.js';
import { TermsRepository } from './repositories/terms.repository.js';
import { DeviceSessionRepository } from './repositories/device-session.repository.js';
import { UpstreamLinkRepository } from './repositories/upstream-link.repository.js';
import { ClientRepository } from './repositories/client.repository.js';
import { BrowserSessionRepository } from './repositories/browser-session.repository.js';
import { CompatSessionRepository } from './repositories/compat-session.repository.js';
import { OAuth2TokenRepository } from './repositories/oauth2-token.repository.js';
import { AuthorizationGrantRepository } from './repositories/authorization-grant.repository.js';
import { ConsentRepository } from './repositories/consent.repository.js';
import { DeviceCodeRepository } from './repositories/device-code.repository.js';
import { OutboxDeliveryRepository } from './repositories/outbox/outbox-delivery.repository.js';
import { SessionEndRepository } from './repositories/session-end/session-end.repository.js';

/** Injection token of the shared ioredis connection, or null when redis is not configured. */
export const REDIS = Symbol('REDIS');

export interface StorageHandles {
  dataSource: DataSource;
  databaseUrl: string;
  redis: Redis | null;
  redisPrefix: string;
  /** The process's clock (src/clock): expiry of database-held keyed values. */
  now?: () => number;
  /** The HTTP request being handled (audit rows record its address and user agent). */
  auditOrigin?: () => AuditOrigin | undefined;
}

/**
 * Owns the database and Redis handles (opened by bootstrap before Nest starts, closed after it
 * stops), the KeyValueStore built on whichever is available, and the repositories, one per
 * aggregate: users with their emails and upstream links, clients, browser sessions with their
 * upstream sessions, device sessions, OAuth 2.0 sessions with their tokens, authorization codes,
 * consents, device codes, compat sessions with their tokens, the admin API's session
 * listing, terms, the audit log, the outbox's delivery side, the ending of sessions. Other
 * modules never import an entity.
 */
@Global()
@Module({})
export class StorageModule {
  static forRoot(h: StorageHandles): DynamicModule {
    const database = new Database(h.dataSource, h.databaseUrl);
    const kv = h.redis ? new RedisKeyValueStore(h.redis, h.redisPrefix) : new DbKeyValueStore(database, h.now);
    return {
      module: StorageModule,
      providers: [
        { provide: Database, useValue: database },
        { provide: REDIS, useValue: h.redis },
        { provide: KeyValueStore, useValue: kv },
        { provide: AuditLogRepository, useValue: new AuditLogRepository(database, h.auditOrigin) },
        { provide: UserRepository, useValue: new UserRepository(database) },
        { provide: SessionRepository, useValue: new SessionRepository(database) },
        { provide: TermsRepository, useValue: new TermsRepository(database) },
        { provide: DeviceSessionRepository, useValue: new DeviceSessionRepository(database) },
        { provide: UpstreamLinkRepository, useValue: new UpstreamLinkRepository(database) },
        { provide: ClientRepository, useValue: new ClientRepository(database) },
        { provide: BrowserSessionRepository, useValue: new BrowserSessionRepository(database) },
        { provide: CompatSessionRepository, useValue: new CompatSessionRepository(database) },
        { provide: OAuth2TokenRepository, useValue: new OAuth2TokenRepository(database) },
        { provide: AuthorizationGrantRepository, useValue: new AuthorizationGrantRepository() },
        { provide: ConsentRepository, useValue: new ConsentRepository(database) },
        { provide: DeviceCodeRepository, useValue: new DeviceCodeRepository(database) },
        { provide: OutboxDeliveryRepository, useValue: new OutboxDeliveryRepository(database) },
        { provide: SessionEndRepository, useValue: new SessionEndRepository(database) },
      ],
      exports: [
        Database,
        REDIS,
        KeyValueStore,
        AuditLogRepository,
        UserRepository,
        SessionRepository,
        TermsRepository,
        DeviceSessionRepository,
        UpstreamLinkRepository,
        ClientRepository,
        BrowserSessionRepository,
        CompatSessionRepository,
        OAuth2TokenRepository,
        AuthorizationGrantRepository,
        ConsentRepository,
        DeviceCodeRepository,
        OutboxDeliveryRepository,
        SessionEndRepository,
      ],
    };
  }
}
