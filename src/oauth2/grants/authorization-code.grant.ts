import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../http/logger.module.js';
import { DeviceProvisioner } from '../homeserver/device-provisioner.js';
import { reaffirmIssuedDevice } from './issued-device.js';
import { sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { AuthorizationGrantRepository, type AuthorizationGrantRecord } from '../../storage/repositories/authorization-grant.repository.js';
import { GRANT } from '../clients/client.js';
import { InvalidGrantError } from '../errors.js';
import { verifyPkce } from '../authorize/pkce.js';
import { canonicalRedirectUri } from '../clients/redirect-uri.rules.js';
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

type Outcome =
  | { kind: 'issued'; tokens: IssuedTokens; grant: AuthorizationGrantRecord; replaced: number; localpart: string; sessionId: string; deviceId?: string }
  | { kind: 'replayed'; ended: number }
  | { kind: 'refused'; why: string };

/**
 * RFC 6749 §4.1.3 + RFC 7636: the code must exist, be unused, unexpired, issued to this client for
 * this redirect URI, and match the PKCE verifier, and the browser session it was issued in must
 * still be live (a sign-out between the code and its exchange wins). Any failure is invalid_grant.
 * A code replayed by the client it was issued to also ends the session it was exchanged for
 * (RFC 6749 §4.1.2: revoke the tokens issued from it).
 */
@Injectable()
export class AuthorizationCodeGrant implements TokenGrant {
  readonly type = GRANT.authorizationCode;

  constructor(
    private readonly db: Database,
    private readonly issuer: TokenIssuer,
    private readonly ender: SessionEnder,
    private readonly provisioner: DeviceProvisioner,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly users: UserRepository,
    private readonly browserSessions: BrowserSessionRepository,
    private readonly grants: AuthorizationGrantRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  async exchange({ client, params, ip }: GrantRequest): Promise<Record<string, unknown>> {
    const code = required(params, 'code');
    const redirectUri = required(params, 'redirect_uri');
    const verifier = params.code_verifier;
    const now = this.clock.now();

    const outcome = await this.db.transaction<Outcome>(async (em) => {
      const grant = await this.grants.byCodeHash(em, sha256Hex(code));
      if (!grant) return { kind: 'refused', why: 'unknown authorization code' };
      // The client the code was issued to, authenticated, is the only one whose replay ends anything:
      // another client presenting a stolen, used code must not sign its victim out.
      if (grant.clientId !== client.clientId) return { kind: 'refused', why: 'the code was issued to another client' };
      if (grant.usedAt !== null) {
        const ended = grant.sessionId ? await this.ender.end(em, [grant.sessionId], 'code_reuse', `client:${client.clientId}`, now) : 0;
        return { kind: 'replayed', ended };
      }
      if (grant.expiresAt <= now) return { kind: 'refused', why: 'the authorization code has expired' };
      if (grant.redirectUri !== redirectUri && grant.redirectUri !== canonicalRedirectUri(redirectUri)) return { kind: 'refused', why: 'redirect_uri does not match the authorization request' };
      if (verifier === undefined) return { kind: 'refused', why: 'code_verifier is required (PKCE)' };
      if (!verifyPkce(verifier, grant.codeChallenge)) return { kind: 'refused', why: 'PKCE verification failed' };
      const user = await activeUser(this.users, em, grant.userId);
      if (!user) return { kind: 'refused', why: 'the account can no longer sign in' };
      // The sign-in the code came from must still be live: a code does not outlive its sign-out.
      if (!(await liveBrowserSession(this.browserSessions, em, grant.browserSessionId, this.config.login.browser_session_ttl, now))) {
        return { kind: 'refused', why: 'the sign-in this code came from has ended' };
      }

      // Single use, also against a concurrent exchange of the same code.
      if (!(await this.grants.claim(em, grant.id, now))) return { kind: 'refused', why: 'the authorization code was already used' };

      const scope = parseScope(grant.scope);
      const { session, replaced } = await this.issuer.startSession(
        em,
        { userId: user.id, clientId: client.clientId, deviceId: scope.deviceId, scope: scope.tokens, grantType: this.type, browserSessionId: grant.browserSessionId, ip },
        now,
      );
      await this.grants.attachSession(em, grant.id, session.id);
      const tokens = await this.issuer.issue(em, session, { refresh: true, grant: this.type }, now);
      return { kind: 'issued', tokens, grant, replaced, localpart: user.localpart, sessionId: session.id, deviceId: scope.deviceId };
    });

    if (outcome.kind === 'replayed') {
      if (outcome.ended) this.ender.committed();
      throw new InvalidGrantError('the authorization code was already used');
    }
    if (outcome.kind === 'refused') throw new InvalidGrantError(outcome.why);
    if (outcome.replaced) this.ender.committed();
    await reaffirmIssuedDevice({ db: this.db, provisioner: this.provisioner, ender: this.ender, logger: this.logger }, outcome);

    const scope = outcome.grant.scope.split(' ');
    const idToken = scope.includes('openid')
      ? await this.issuer.idToken(client, { userId: outcome.grant.userId, nonce: outcome.grant.nonce, authTime: outcome.grant.authTime, sid: outcome.grant.browserSessionId }, outcome.tokens.accessToken)
      : undefined;
    return tokenResponseBody(outcome.tokens, scope, idToken);
  }
}
