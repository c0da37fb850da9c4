import type { PolicyConfig } from '../../config/sections/policy.config.js';
import { GRANT, type OAuthClient } from './client.js';
import { NAMESPACE_PREFIX } from '../scopes/scope.js';

/**
 * Which clients may register and connect, and what they may be granted (docs/operator/policy.md).
 * Pure. Every refusal says which rule refused, so an operator reading a client's
 * error knows which key to change.
 */
type ClientPolicy = Pick<PolicyConfig, 'client_registration' | 'client_registration_allow' | 'device_code_grant' | 'denied_scopes' | 'dynamic_client_denied_scopes'>;

const hostOf = (uri: unknown): string | undefined => {
  if (typeof uri !== 'string') return undefined;
  try {
    return new URL(uri).hostname.toLowerCase();
  } catch {
    return undefined;
  }
};

/** `app.example.com` matches that host; `*.example.com` its subdomains; anything else an exact client_id. */
function onAllowList(allow: readonly string[], host: string | undefined, clientId: string | undefined): boolean {
  return allow.some((entry) => {
    if (clientId !== undefined && entry === clientId) return true;
    if (!host) return false;
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? host.endsWith(e.slice(1)) : host === e;
  });
}

/**
 * Why a dynamic registration is refused, or undefined. `existingClientId`: the client_id an
 * identical earlier registration got (it is returned again, so it may be allow-listed by id).
 */
export function registrationRefusal(policy: ClientPolicy, metadata: { client_uri: string; grant_types: string[] }, existingClientId?: string): string | undefined {
  if (policy.client_registration === 'closed') return 'dynamic client registration is closed on this server (policy.client_registration: closed)';
  if (policy.client_registration === 'allow_list' && !onAllowList(policy.client_registration_allow, hostOf(metadata.client_uri), existingClientId)) {
    return `the host of client_uri is not allowed to register (policy.client_registration: allow_list, see policy.client_registration_allow)`;
  }
  if (!policy.device_code_grant && metadata.grant_types.includes(GRANT.deviceCode)) {
    return `grant_types: the device authorization grant is turned off on this server (policy.device_code_grant: false)`;
  }
  return undefined;
}

/** Why a client may not sign anyone in now (a dynamic client registered before the policy changed), or undefined. */
export function clientRefusal(policy: ClientPolicy, client: OAuthClient): string | undefined {
  if (client.origin === 'static' || policy.client_registration === 'open') return undefined;
  if (policy.client_registration === 'closed') return 'only clients declared by the operator may sign in (policy.client_registration: closed)';
  return onAllowList(policy.client_registration_allow, hostOf(client.metadata.client_uri), client.clientId) ? undefined : 'this client is not on the allow list (policy.client_registration: allow_list)';
}

/** A pattern matches a token exactly, or as a prefix when it ends in `*` (`urn:synapse:admin:*` matches that scope). */
const matches = (pattern: string, token: string) => (pattern.endsWith('*') ? token.startsWith(pattern.slice(0, -1)) : token === pattern);
/** Matrix tokens are judged in both namespaces (a rule on `urn:matrix:client:*` covers the unstable spelling). */
function spellings(token: string): string[] {
  for (const [ns, prefix] of Object.entries(NAMESPACE_PREFIX)) {
    if (token.startsWith(prefix)) return [token, (ns === 'stable' ? NAMESPACE_PREFIX.unstable : NAMESPACE_PREFIX.stable) + token.slice(prefix.length)];
  }
  return [token];
}
const anyMatch = (patterns: readonly string[], token: string) => spellings(token).some((t) => patterns.some((p) => matches(p, t)));

/** The first requested scope token the policy refuses this client, with the rule; undefined if all may be granted. */
export function scopeRefusal(policy: ClientPolicy, client: OAuthClient, tokens: readonly string[]): string | undefined {
  for (const token of tokens) {
    if (anyMatch(policy.denied_scopes, token)) return `${token} is not granted on this server (policy.denied_scopes)`;
    if (client.origin === 'dynamic' && anyMatch(policy.dynamic_client_denied_scopes, token)) {
      return `${token} is not granted to dynamically registered clients (policy.dynamic_client_denied_scopes)`;
    }
    if (client.allowedScopes && !anyMatch(client.allowedScopes, token)) return `${token} is not among this client's allowed_scopes`;
  }
  return undefined;
}
