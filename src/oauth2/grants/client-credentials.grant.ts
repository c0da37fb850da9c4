import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { scopeRefusal } from '../clients/client-policy.js';
import { Database } from '../../storage/database.service.js';
import { GRANT, isPublic } from '../clients/client.js';
import { InvalidScopeError, UnauthorizedClientError } from '../errors.js';
import { isSubset, splitScope } from '../scopes/scope.js';
import { TokenIssuer, tokenResponseBody } from '../token/token-issuer.js';
import type { GrantRequest, TokenGrant } from './grant.js';
import { Clock, SystemClock } from '../../clock/clock.js';

/**
 * RFC 6749 §4.4 for confidential static clients (admin tools). The scope is what the request names
 * within the client's `client_credentials_scopes` (all of them when it names none); this is the
 * only way to get `urn:synapse:admin:*` without a user. No refresh token (RFC 6749 §4.4.3).
 */
@Injectable()
export class ClientCredentialsGrant implements TokenGrant {
  readonly type = GRANT.clientCredentials;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly db: Database,
    private readonly issuer: TokenIssuer,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  async exchange({ client, params, ip }: GrantRequest): Promise<Record<string, unknown>> {
    if (client.origin !== 'static' || isPublic(client)) throw new UnauthorizedClientError('client_credentials is only for confidential clients declared in the configuration');
    const allowed = client.clientCredentialsScopes;
    const scope = params.scope !== undefined ? splitScope(params.scope) : allowed;
    if (scope.length === 0) throw new InvalidScopeError('this client has no client_credentials scopes');
    if (!isSubset(scope, allowed)) throw new InvalidScopeError('scope not allowed for this client');
    const refusal = scopeRefusal(this.config.policy, client, scope);
    if (refusal) throw new InvalidScopeError(refusal);
    const now = this.clock.now();
    const tokens = await this.db.transaction(async (em) => {
      const { session } = await this.issuer.startSession(em, { userId: null, clientId: client.clientId, scope, grantType: this.type, ip }, now);
      return this.issuer.issue(em, session, { refresh: false, grant: this.type }, now);
    });
    return tokenResponseBody(tokens, scope);
  }
}
