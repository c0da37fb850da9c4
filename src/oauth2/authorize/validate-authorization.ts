import type { GatewayConfig } from '../../config/config.schema.js';
import type { ClientService } from '../clients/client.service.js';
import { OAuthError } from '../errors.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { AuthorizationRedirectError } from './authorization-redirect.error.js';
import { errorRedirectUrl } from './redirect-response.js';
import type { AuthorizationCheck, AuthorizationContext } from './checks/authorization-context.js';
import { checkClient } from './checks/check-client.js';
import { checkRedirectUri } from './checks/check-redirect-uri.js';
import { checkResponseMode } from './checks/check-response-mode.js';
import { checkState } from './checks/check-state.js';
import { checkDuplicates } from './checks/check-duplicates.js';
import { checkUnsupportedParams } from './checks/check-unsupported-params.js';
import { checkResponseType } from './checks/check-response-type.js';
import { checkPkce } from './checks/check-pkce.js';
import { checkScope } from './checks/check-scope.js';
import { checkPrompt } from './checks/check-prompt.js';
import { checkHints } from './checks/check-hints.js';

/** Checks whose failure is shown as a page (client and redirect URI not trusted yet). */
const UNREDIRECTABLE: AuthorizationCheck[] = [checkClient, checkRedirectUri];
/** Checks whose failure is redirected to the client with `error` and `state`, in this order. */
const REDIRECTABLE: AuthorizationCheck[] = [checkState, checkResponseMode, checkDuplicates, checkUnsupportedParams, checkResponseType, checkPkce, checkScope, checkPrompt, checkHints];

/** Runs the /authorize checks (the pre-login part): a validated request, an OAuth2RefusalError (shown as a page), or an AuthorizationRedirectError. */
export async function validateAuthorization(params: Record<string, unknown>, clients: ClientService, config: GatewayConfig): Promise<AuthorizationRequest> {
  const ctx: AuthorizationContext = { params, clients, config, responseMode: 'query', duplicated: [], request: { prompt: [] } };
  for (const check of UNREDIRECTABLE) await check(ctx);
  // The mode and state used for an error redirect are read first, best effort.
  const mode = params.response_mode;
  if (mode === 'fragment') ctx.responseMode = 'fragment';
  if (typeof params.state === 'string' && params.state.length <= 2048) ctx.state = params.state;
  try {
    for (const check of REDIRECTABLE) await check(ctx);
  } catch (e) {
    if (e instanceof OAuthError) throw new AuthorizationRedirectError(errorRedirectUrl(ctx.redirectUri!, ctx.responseMode, e, ctx.state), e);
    throw e;
  }
  return ctx.request as AuthorizationRequest;
}
