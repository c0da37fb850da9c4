import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../http/logger.module.js';
import { DeviceProvisioner } from '../homeserver/device-provisioner.js';
import { reaffirmIssuedDevice } from './issued-device.js';
import { sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { DeviceCodeRepository } from '../../storage/repositories/device-code.repository.js';
import { GRANT } from '../clients/client.js';
import { AccessDeniedError, AuthorizationPendingError, ExpiredTokenError, InvalidGrantError, SlowDownError, type OAuthError } from '../errors.js';
import { parseScope } from '../scopes/scope.js';
import { SessionEnder } from '../sessions/session-ender.js';
import { required } from '../token/form-params.js';
import { TokenIssuer, tokenResponseBody, type IssuedTokens } from '../token/token-issuer.js';
import type { GrantRequest, TokenGrant } from './grant.js';
import { activeUser, liveBrowserSession } from './grant-users.js';
import { UserRepository } from '../../storage/repositories/user.repository.js';
import { BrowserSessionRepository } from '../../storage/repositories/browser-session.repository.js';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { Clock, SystemClock } from '../../clock/clock.js';

/** RFC 8628 §3.5 says these are 400 (MAS answers 403; both SDKs accept either). */
class DeviceAccessDenied extends AccessDeniedError {
  override readonly status = 400;
}

type Outcome = { kind: 'error'; error: OAuthError } | { kind: 'issued'; tokens: IssuedTokens; scope: string[]; userId: string; replaced: number; localpart: string; sessionId: string; deviceId?: string };

/**
 * RFC 8628 §3.4-3.5: authorization_pending while the user has not decided, slow_down when polled
 * faster than `interval` (which then grows by 5 s), access_denied, expired_token, and invalid_grant
 * for an unknown, foreign or already exchanged code.
 */
@Injectable()
export class DeviceCodeGrant implements TokenGrant {
  readonly type = GRANT.deviceCode;

  constructor(
    private readonly db: Database,
    private readonly issuer: TokenIssuer,
    private readonly ender: SessionEnder,
    private readonly provisioner: DeviceProvisioner,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly users: UserRepository,
    private readonly browserSessions: BrowserSessionRepository,
    private readonly deviceCodes: DeviceCodeRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  async exchange({ client, params, ip }: GrantRequest): Promise<Record<string, unknown>> {
    const deviceCode = required(params, 'device_code');
    const now = this.clock.now();
    const outcome = await this.db.transaction<Outcome>(async (em) => {
      const row = await this.deviceCodes.byDeviceCodeHash(em, sha256Hex(deviceCode));
      if (!row || row.clientId !== client.clientId) return { kind: 'error', error: new InvalidGrantError('unknown device code') };
      if (row.state === 'exchanged') return { kind: 'error', error: new InvalidGrantError('the device code was already used') };
      if (row.expiresAt <= now) return { kind: 'error', error: new ExpiredTokenError('the device code has expired') };
      if (row.state === 'denied') return { kind: 'error', error: new DeviceAccessDenied('the user denied the request') };
      if (row.state === 'pending') {
        const tooFast = row.lastPolledAt !== null && now - row.lastPolledAt < row.interval * 1000;
        await this.deviceCodes.recordPoll(em, row.id, now, tooFast ? row.interval + 5 : undefined);
        return { kind: 'error', error: tooFast ? new SlowDownError('polling too fast') : new AuthorizationPendingError('the user has not answered yet') };
      }
      // approved
      const user = row.userId ? await activeUser(this.users, em, row.userId) : undefined;
      if (!user) return { kind: 'error', error: new InvalidGrantError('the account can no longer sign in') };
      // The browser session that approved it must still be live: an approval does not outlive its sign-out.
      if (!(await liveBrowserSession(this.browserSessions, em, row.browserSessionId, this.config.login.browser_session_ttl, now))) {
        return { kind: 'error', error: new InvalidGrantError('the sign-in that approved this device has ended') };
      }
      if (!(await this.deviceCodes.transition(em, row.id, 'approved', 'exchanged', { lastPolledAt: now }))) return { kind: 'error', error: new InvalidGrantError('the device code was already used') };
      const scope = parseScope(row.scope);
      const { session, replaced } = await this.issuer.startSession(
        em,
        { userId: user.id, clientId: client.clientId, deviceId: scope.deviceId, scope: scope.tokens, grantType: this.type, browserSessionId: row.browserSessionId, ip },
        now,
      );
      await this.deviceCodes.attachSession(em, row.id, session.id);
      const tokens = await this.issuer.issue(em, session, { refresh: true, grant: this.type }, now);
      return { kind: 'issued', tokens, scope: scope.tokens, userId: user.id, replaced, localpart: user.localpart, sessionId: session.id, deviceId: scope.deviceId };
    });
    if (outcome.kind === 'error') throw outcome.error;
    if (outcome.replaced) this.ender.committed();
    await reaffirmIssuedDevice({ db: this.db, provisioner: this.provisioner, ender: this.ender, logger: this.logger }, outcome);
    const idToken = outcome.scope.includes('openid') ? await this.issuer.idToken(client, { userId: outcome.userId }, outcome.tokens.accessToken) : undefined;
    return tokenResponseBody(outcome.tokens, outcome.scope, idToken);
  }
}
