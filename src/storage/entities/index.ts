import { UserEntity } from './user.entity.js';
import { UpstreamLinkEntity } from './upstream-link.entity.js';
import { UpstreamSessionEntity } from './upstream-session.entity.js';
import { BrowserSessionEntity } from './browser-session.entity.js';
import { ClientEntity } from './client.entity.js';
import { ConsentEntity } from './consent.entity.js';
import { AuthorizationGrantEntity } from './authorization-grant.entity.js';
import { OAuth2SessionEntity } from './oauth2-session.entity.js';
import { AccessTokenEntity } from './access-token.entity.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { DeviceCodeEntity } from './device-code.entity.js';
import { KvEntryEntity } from './kv.entity.js';
import { OutboxEntity } from './outbox.entity.js';
import { AuditLogEntity } from './audit-log.entity.js';
import { CompatSessionEntity } from './compat-session.entity.js';
import { CompatTokenEntity } from './compat-token.entity.js';
import { UserEmailEntity } from './user-email.entity.js';
import { SynapseImportUserEntity } from './synapse-import-user.entity.js';

export {
  UserEntity,
  UpstreamLinkEntity,
  UpstreamSessionEntity,
  BrowserSessionEntity,
  ClientEntity,
  ConsentEntity,
  AuthorizationGrantEntity,
  OAuth2SessionEntity,
  AccessTokenEntity,
  RefreshTokenEntity,
  DeviceCodeEntity,
  KvEntryEntity,
  OutboxEntity,
  AuditLogEntity,
  CompatSessionEntity,
  CompatTokenEntity,
  UserEmailEntity,
  SynapseImportUserEntity,
};

export const ALL_ENTITIES = [
  UserEntity,
  UpstreamLinkEntity,
  UpstreamSessionEntity,
  BrowserSessionEntity,
  ClientEntity,
  ConsentEntity,
  AuthorizationGrantEntity,
  OAuth2SessionEntity,
  AccessTokenEntity,
  RefreshTokenEntity,
  DeviceCodeEntity,
  KvEntryEntity,
  OutboxEntity,
  AuditLogEntity,
  CompatSessionEntity,
  CompatTokenEntity,
  UserEmailEntity,
  SynapseImportUserEntity,
];
