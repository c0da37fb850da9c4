import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { randomAlphanumeric, sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { AuthorizationGrantRepository } from '../../storage/repositories/authorization-grant.repository.js';
import { ConsentRepository } from '../../storage/repositories/consent.repository.js';
import { UserRepository } from '../../storage/repositories/user.repository.js';
import { ulid } from '../../storage/ulid.js';
import { AuditLogRepository } from '../../storage/repositories/audit-log.repository.js';
import { AUDIT_ACTIONS } from '../../audit/audit-event.js';
import { OAuth2RefusalError } from '../refusal.error.js';
import { ClientService } from '../clients/client.service.js';
import { clientDisplay } from '../clients/client-display.js';
import { InvalidScopeError, type OAuthError } from '../errors.js';
import { AuthorizationCompleter, type BrowserSessionRef, type ClientDisplay, type SignedInUser } from '../oauth2.contracts.js';
import { ADMIN_SCOPE, CAUSEWAY_ADMIN_SCOPE, consentScopes, isSubset, parseScope } from '../scopes/scope.js';
import { mayRequestAdmin } from '../scopes/admin-right.js';
import { DeviceProvisioner } from '../homeserver/device-provisioner.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { validateAuthorization } from './validate-authorization.js';
import { errorRedirectUrl, successRedirect } from './redirect-response.js';
import { Clock, SystemClock } from '../../clock/clock.js';

/** What the login flow calls around the user's sign-in (see oauth2.contracts.ts). */
@Injectable()
export class AuthorizationService extends AuthorizationCompleter {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly clients: ClientService,
    private readonly provisioner: DeviceProvisioner,
    private readonly audit: AuditLogRepository,
    private readonly users: UserRepository,
    private readonly consents: ConsentRepository,
    private readonly grants: AuthorizationGrantRepository,
    private readonly clock: Clock = new SystemClock(),
  ) {
    super();
  }

  validate(params: Record<string, unknown>): Promise<AuthorizationRequest> {
    return validateAuthorization(params, this.clients, this.config);
  }

  async clientDisplay(clientId: string, languages: string[] = [], redirectUri?: string): Promise<ClientDisplay> {
    const client = await this.clients.find(clientId);
    if (!client) throw new OAuth2RefusalError('client_gone', {}, { reason: 'unknown_client' });
    return clientDisplay(client, languages, redirectUri);
  }

  async needsConsent(req: AuthorizationRequest, user: SignedInUser): Promise<boolean> {
    // Admin scopes this account may not be granted: no consent page offering them (it would ask the
    // person to allow what they cannot give); complete() refuses with invalid_scope at once.
    const scope = parseScope(req.scope.join(' '));
    if ((scope.admin || scope.causewayAdmin) && !(await this.mayAdminister(user))) return false;
    if (req.prompt.includes('consent')) return true;
    const row = await this.consents.find(user.userId, req.clientId);
    return !row || !isSubset(consentScopes(req.scope), row.scopes);
  }

  async recordConsent(req: AuthorizationRequest, userId: string): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction(async (em) => {
      const row = await this.consents.find(userId, req.clientId, em);
      const scopes = consentScopes(req.scope);
      if (row) {
        await this.consents.setScopes(em, row.id, [...new Set([...row.scopes, ...scopes])].sort(), now);
      } else {
        await this.consents.insert(em, { id: ulid(now), userId, clientId: req.clientId, scopes, createdAt: now, updatedAt: now });
      }
      await this.audit.record(em, { action: AUDIT_ACTIONS.consentGranted, actor: `user:${userId}`, target: req.clientId, userId, details: { client_id: req.clientId, scope: scopes }, at: now });
    });
  }

  /**
   * Provisions the user and device on the homeserver (an OAuth2RefusalError if it stays down), then issues a
   * single-use code bound to the client, redirect URI, PKCE challenge, scope, nonce and browser
   * session. Older sessions on the same device end when the code is exchanged (TokenIssuer), so a
   * code that is never used takes nothing away. Returns where to send the browser.
   */
  async complete(req: AuthorizationRequest, user: SignedInUser, session: BrowserSessionRef): Promise<string> {
    const scope = parseScope(req.scope.join(' '));
    if ((scope.admin || scope.causewayAdmin) && !(await this.mayAdminister(user))) {
      return this.errorRedirect(req, new InvalidScopeError(`this account may not be granted ${scope.admin ? ADMIN_SCOPE : CAUSEWAY_ADMIN_SCOPE}`));
    }
    if (scope.api) await this.provisioner.ensure(user.localpart, scope.deviceId);

    const now = this.clock.now();
    const code = randomAlphanumeric(43);
    await this.db.transaction(async (em) => {
      await this.grants.insert(em, {
        id: ulid(now),
        codeHash: sha256Hex(code),
        clientId: req.clientId,
        redirectUri: req.redirectUri,
        scope: scope.tokens.join(' '),
        codeChallenge: req.codeChallenge,
        nonce: req.nonce ?? null,
        userId: user.userId,
        browserSessionId: session.id,
        authTime: session.authenticatedAt,
        createdAt: now,
        expiresAt: now + this.config.tokens.authorization_code_ttl * 1000,
        usedAt: null,
        sessionId: null,
      });
      await this.audit.record(em, {
        action: AUDIT_ACTIONS.authorizationCodeIssued,
        actor: `user:${user.userId}`,
        target: req.clientId,
        userId: user.userId,
        details: { client_id: req.clientId, scope: scope.tokens, ...(scope.deviceId ? { device_id: scope.deviceId } : {}), browser_session_id: session.id },
        at: now,
      });
    });
    return successRedirect(req.redirectUri, req.responseMode, code, req.state);
  }

  errorRedirect(req: AuthorizationRequest, error: OAuthError): string {
    return errorRedirectUrl(req.redirectUri, req.responseMode, error, req.state);
  }

  /** `urn:synapse:admin:*` in interactive grants: see scopes/admin-right.ts. */
  async mayAdminister(user: SignedInUser): Promise<boolean> {
    const rights = await this.users.adminRights(user.userId);
    return mayRequestAdmin({ localpart: user.localpart, canRequestAdmin: !!rights?.canRequestAdmin, idpAdmin: !!rights?.idpAdmin }, this.config.policy.admin_localparts);
  }
}
