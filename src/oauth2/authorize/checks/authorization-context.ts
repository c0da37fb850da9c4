import type { GatewayConfig } from '../../../config/config.schema.js';
import type { OAuthClient } from '../../clients/client.js';
import type { ClientService } from '../../clients/client.service.js';
import type { AuthorizationRequest } from '../authorization-request.js';

/** What the checks of /authorize share while they run, in order (see validate-authorization.ts). */
export interface AuthorizationContext {
  params: Record<string, unknown>;
  clients: ClientService;
  config: GatewayConfig;
  /** Set by check-client. */
  client?: OAuthClient;
  /** Set by check-redirect-uri: from here on errors are redirected to the client. */
  redirectUri?: string;
  responseMode: 'query' | 'fragment';
  state?: string;
  /** Parameters that appeared more than once. */
  duplicated: string[];
  request: Partial<AuthorizationRequest>;
}

export type AuthorizationCheck = (ctx: AuthorizationContext) => void | Promise<void>;

/**
 * A single-valued parameter: RFC 6749 §3.1 says parameters sent without a value are treated as
 * omitted, and none may repeat (repeats are collected for check-duplicates).
 */
export function param(ctx: AuthorizationContext, name: string): string | undefined {
  const v = ctx.params[name];
  if (Array.isArray(v)) {
    if (!ctx.duplicated.includes(name)) ctx.duplicated.push(name);
    const first = v.find((x) => typeof x === 'string' && x !== '');
    return typeof first === 'string' ? first : undefined;
  }
  return typeof v === 'string' && v !== '' ? v : undefined;
}
