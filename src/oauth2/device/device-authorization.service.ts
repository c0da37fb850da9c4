import { Inject, Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { randomAlphanumeric, sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { DeviceCodeRepository, type DeviceCodeRecord } from '../../storage/repositories/device-code.repository.js';
import { ulid } from '../../storage/ulid.js';
import { OAuth2RefusalError } from '../refusal.error.js';
import type { OAuthClient } from '../clients/client.js';
import { GRANT } from '../clients/client.js';
import { InvalidScopeError, UnauthorizedClientError } from '../errors.js';
import { scopeRefusal } from '../clients/client-policy.js';
import type { DeviceAuthorizationRef } from '../authorize/authorization-request.js';
import { DeviceGrantDecider, type BrowserSessionRef, type SignedInUser } from '../oauth2.contracts.js';
import { endpointUrl } from '../oauth2.paths.js';
import { parseScope, withDevice } from '../scopes/scope.js';
import { DeviceProvisioner } from '../homeserver/device-provisioner.js';
import { AuthorizationService } from '../authorize/authorization.service.js';
import { formatUserCode, generateUserCode, normalizeUserCode } from './user-code.js';
import { Clock, SystemClock } from '../../clock/clock.js';

/** RFC 8628 device authorization: starting one (the endpoint) and deciding it (the verification page). */
@Injectable()
export class DeviceAuthorizationService extends DeviceGrantDecider {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly provisioner: DeviceProvisioner,
    private readonly authorizations: AuthorizationService,
    private readonly deviceCodes: DeviceCodeRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {
    super();
  }

  /** POST /oauth2/device: the §3.2 response (always with verification_uri_complete). */
  async start(client: OAuthClient, rawScope: string | undefined): Promise<Record<string, unknown>> {
    if (!client.grantTypes.includes(GRANT.deviceCode)) throw new UnauthorizedClientError('this client is not registered for the device code grant');
    const scope = parseScope(withDevice(rawScope, randomInt));
    const refusal = scopeRefusal(this.config.policy, client, scope.tokens);
    if (refusal) throw new InvalidScopeError(refusal);
    const now = this.clock.now();
    const ttl = this.config.tokens.device_code_ttl;
    const interval = this.config.tokens.device_code_interval;
    const deviceCode = randomAlphanumeric(43);
    const userCode = await this.db.transaction(async (em) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const code = generateUserCode();
        // 20^8 codes: a clash with a live code is rare; an expired one is taken over.
        const clash = await this.deviceCodes.byUserCode(em, code);
        if (clash && clash.expiresAt > now) continue;
        if (clash) await this.deviceCodes.delete(em, clash.id);
        await this.deviceCodes.insert(em, {
          id: ulid(now),
          deviceCodeHash: sha256Hex(deviceCode),
          userCode: code,
          clientId: client.clientId,
          scope: scope.tokens.join(' '),
          state: 'pending',
          userId: null,
          browserSessionId: null,
          sessionId: null,
          createdAt: now,
          expiresAt: now + ttl * 1000,
          lastPolledAt: null,
          interval,
        });
        return code;
      }
      throw new Error('could not allocate a user code');
    });
    const verificationUri = endpointUrl(this.config.http.public_base, 'deviceVerification');
    return {
      device_code: deviceCode,
      user_code: formatUserCode(userCode),
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?code=${formatUserCode(userCode)}`,
      expires_in: ttl,
      interval,
    };
  }

  async find(userCode: string): Promise<DeviceAuthorizationRef | undefined> {
    const row = await this.pending(userCode);
    if (!row) return undefined;
    const scope = parseScope(row.scope);
    return { userCode: formatUserCode(row.userCode), clientId: row.clientId, scope: scope.tokens, deviceId: scope.deviceId };
  }

  async approve(userCode: string, user: SignedInUser, session: BrowserSessionRef): Promise<void> {
    const row = await this.pending(userCode);
    if (!row) throw expiredPage();
    const scope = parseScope(row.scope);
    if ((scope.admin || scope.causewayAdmin) && !(await this.authorizations.mayAdminister(user))) {
      await this.deny(userCode);
      throw new OAuth2RefusalError('admin_scope_refused', {}, { reason: 'admin_scope_refused' });
    }
    if (scope.api) await this.provisioner.ensure(user.localpart, scope.deviceId);
    const done = await this.db.transaction((tx) => this.deviceCodes.transition(tx, row.id, 'pending', 'approved', { userId: user.userId, browserSessionId: session.id }));
    if (!done) throw expiredPage();
  }

  async deny(userCode: string): Promise<void> {
    const row = await this.pending(userCode);
    if (!row) return;
    await this.db.transaction((tx) => this.deviceCodes.transition(tx, row.id, 'pending', 'denied'));
  }

  private async pending(userCode: string): Promise<DeviceCodeRecord | undefined> {
    const code = normalizeUserCode(userCode);
    return code ? this.deviceCodes.pendingByUserCode(code, this.clock.now()) : undefined;
  }
}

const expiredPage = () => new OAuth2RefusalError('device_code_expired', {}, { reason: 'device_code_not_pending' });
