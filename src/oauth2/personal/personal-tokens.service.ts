import { randomInt } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { Outbox } from '../../events/outbox.js';
import { LOGGER } from '../../http/logger.module.js';
import { Database } from '../../storage/database.service.js';
import { UserRepository } from '../../storage/repositories/user.repository.js';
import { AuditLogRepository, type Actor } from '../../storage/repositories/audit-log.repository.js';
import { OAuthError } from '../errors.js';
import { DeviceProvisioner } from '../homeserver/device-provisioner.js';
import { mayRequestAdmin } from '../scopes/admin-right.js';
import { ADMIN_SCOPE, CAUSEWAY_ADMIN_SCOPE, parseScope, withDevice } from '../scopes/scope.js';
import { SessionEnder } from '../sessions/session-ender.js';
import { TokenIssuer } from '../token/token-issuer.js';

/** The `client_id` of personal sessions (no OAuth client stands behind them; `:` keeps it apart from every real client id). */
export const PERSONAL_CLIENT_ID = 'urn:causeway:personal';
/** Their `grant_type` (how the sessions list tells them apart). */
export const PERSONAL_GRANT = 'personal';

export class PersonalTokenError extends Error {
  constructor(
    readonly kind: 'invalid_scope' | 'not_admin' | 'user_unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'PersonalTokenError';
  }
}

export interface PersonalTokenRequest {
  userId: string;
  /** Shown in session lists (and as the device name). */
  name: string;
  /** Scope tokens; the Matrix API scope without a device gets a generated device. */
  scope: string[];
  /** ms since the epoch, or null for a token that does not expire. */
  expiresAt: number | null;
}

export interface IssuedPersonalToken {
  sessionId: string;
  /** Shown once: only its hash is stored. */
  accessToken: string;
  scope: string[];
  deviceId: string | null;
  expiresAt: number | null;
  /** The homeserver confirmed the device before this returned; otherwise the outbox delivers it (e.g. during an outage). */
  deviceReady: boolean;
}

/**
 * Personal access tokens: a token an admin issues for a user (a bot, a script) without an
 * interactive sign-in. Each is a session of its own (grant `personal`) holding one `mpt_` token, so
 * introspection, revocation, ending a user's sessions, lock and deactivation treat it like any
 * OAuth session. `urn:synapse:admin:*` and `urn:causeway:admin` only for users with the admin right.
 */
@Injectable()
export class PersonalTokens {
  constructor(
    private readonly db: Database,
    private readonly issuer: TokenIssuer,
    private readonly ender: SessionEnder,
    private readonly outbox: Outbox,
    private readonly audit: AuditLogRepository,
    private readonly users: UserRepository,
    private readonly provisioner: DeviceProvisioner,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async issue(r: PersonalTokenRequest, actor: Actor): Promise<IssuedPersonalToken> {
    let scope;
    try {
      scope = parseScope(withDevice(r.scope.join(' '), randomInt));
    } catch (e) {
      if (e instanceof OAuthError) throw new PersonalTokenError('invalid_scope', e.description ?? 'invalid scope');
      throw e;
    }
    const now = Date.now();
    const { user, sessionId, token, replaced } = await this.db.transaction(async (em) => {
      const user = await this.users.findById(r.userId, em);
      if (!user || user.lockedAt !== null || user.deactivatedAt !== null) throw new PersonalTokenError('user_unavailable', 'the user is locked, deactivated or unknown');
      const admin = mayRequestAdmin(user, this.config.policy.admin_localparts);
      if ((scope.admin || scope.causewayAdmin) && !admin) {
        throw new PersonalTokenError('not_admin', `${scope.admin ? ADMIN_SCOPE : CAUSEWAY_ADMIN_SCOPE} can only be given to a user with the admin right`);
      }
      const { session, replaced } = await this.issuer.startSession(em, { userId: user.id, clientId: PERSONAL_CLIENT_ID, deviceId: scope.deviceId, scope: scope.tokens, grantType: PERSONAL_GRANT, humanName: r.name }, now);
      const tokens = await this.issuer.issue(em, session, { refresh: false, grant: PERSONAL_GRANT, personal: { expiresAt: r.expiresAt } }, now);
      // The homeserver learns the device from this row even if the direct call below fails (outage, CLI).
      if (scope.deviceId) await this.outbox.enqueue(em, { kind: 'devices.sync', localpart: user.localpart });
      await this.audit.record(em, {
        actor,
        action: 'personal_token.issue',
        target: session.id,
        userId: user.id,
        details: { localpart: user.localpart, name: r.name, scope: scope.tokens, device_id: scope.deviceId ?? null, expires_at: r.expiresAt },
      });
      return { user, sessionId: session.id, token: tokens.accessToken, replaced };
    });
    if (replaced) this.ender.committed();
    this.outbox.notify();
    let deviceReady = !scope.deviceId;
    if (scope.deviceId) {
      try {
        await this.provisioner.ensure(user.localpart, scope.deviceId);
        deviceReady = true;
      } catch (err) {
        this.logger.warn({ err, sessionId }, 'personal token: the homeserver did not confirm the device; the outbox will deliver it');
      }
    }
    return { sessionId, accessToken: token, scope: scope.tokens, deviceId: scope.deviceId ?? null, expiresAt: r.expiresAt, deviceReady };
  }
}
