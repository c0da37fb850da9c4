import { InvalidScopeError } from '../errors.js';

/**
 * OAuth scopes as Matrix uses them (MSC2967, SPEC §Scope; docs/contracts/matrix-clients.md §4).
 * Pure functions: parse a requested scope string into what it grants, or throw `invalid_scope`.
 *
 * Device ids: every granted Matrix session names exactly one device. When a request asks for the
 * Matrix API without naming a device, Causeway generates one (`withDevice`, issue 3) and grants it
 * in the request's namespace, so the client reads it back from the token response's `scope` (and
 * from whoami). This keeps the contract's goal — no device-less tokens (no E2EE, no to-device) —
 * without refusing such clients as MAS's device-less tokens do not either. A request with no Matrix
 * token at all (`openid`, `openid email`) is not a Matrix login: no device, no homeserver provisioning.
 * `parseScope` itself stays strict (an API token without a device is refused): stored grants and
 * refresh narrowing must always carry the device.
 */

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** Whether `s` can stand in a scope as one token (RFC 6749 §3.3). */
export const isScopeToken = (s: string): boolean => SCOPE_TOKEN.test(s);
/** Synapse refuses device ids over 255 characters (docs/contracts/synapse.md §2.3 step 7). */
export const MAX_DEVICE_ID_LENGTH = 255;

/**
 * The device id grammar, for OAuth scopes and the compatibility layer's `device_id` alike: a scope
 * token (MAS builds device ids from scope tokens, so printable ASCII without space, `"` and `\`), 1
 * to 255 characters, and not `.` or `..` (a device id is a path segment of homeserver admin URLs).
 * No control characters, no bidi overrides, nothing a URL path or a log line could misread.
 */
export function deviceIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'empty device id';
  if (id.length > MAX_DEVICE_ID_LENGTH) return `device id longer than ${MAX_DEVICE_ID_LENGTH} characters`;
  if (!SCOPE_TOKEN.test(id)) return 'device id contains a character that is not allowed';
  if (id === '.' || id === '..') return 'device id must not be a dot segment';
  return undefined;
}

export type MatrixNamespace = 'stable' | 'unstable';
export const NAMESPACE_PREFIX: Record<MatrixNamespace, string> = {
  stable: 'urn:matrix:client:',
  unstable: 'urn:matrix:org.matrix.msc2967.client:',
};
export const API_SCOPE: Record<MatrixNamespace, string> = {
  stable: 'urn:matrix:client:api:*',
  unstable: 'urn:matrix:org.matrix.msc2967.client:api:*',
};
export const ADMIN_SCOPE = 'urn:synapse:admin:*';
/** Causeway's own admin API (/api/admin/v1): granted to the same users as ADMIN_SCOPE, or to a static client through client_credentials. */
export const CAUSEWAY_ADMIN_SCOPE = 'urn:causeway:admin';
/** OIDC scopes Causeway grants besides the Matrix ones. */
export const OIDC_SCOPES = ['openid', 'profile', 'email'] as const;

export interface ParsedScope {
  /** The requested tokens, de-duplicated, in request order (the namespace the client used is kept). */
  tokens: string[];
  /** Namespace of the Matrix tokens, if any. */
  namespace?: MatrixNamespace;
  /** Grants the Matrix client-server API. */
  api: boolean;
  deviceId?: string;
  openid: boolean;
  /** `urn:synapse:admin:*` */
  admin: boolean;
  /** `urn:causeway:admin` */
  causewayAdmin: boolean;
}

function matrixToken(token: string): { ns: MatrixNamespace; rest: string } | undefined {
  for (const ns of ['stable', 'unstable'] as const) {
    if (token.startsWith(NAMESPACE_PREFIX[ns])) return { ns, rest: token.slice(NAMESPACE_PREFIX[ns].length) };
  }
  return undefined;
}

/** Splits a scope parameter (space separated; repeated spaces tolerated) and checks the token grammar. */
export function splitScope(raw: string): string[] {
  const tokens = raw.split(' ').filter(Boolean);
  for (const t of tokens) if (!SCOPE_TOKEN.test(t)) throw new InvalidScopeError('scope contains a character that is not allowed');
  return [...new Set(tokens)];
}

/**
 * Parses and checks a requested scope (authorization, device authorization, refresh narrowing).
 * Throws InvalidScopeError for: an empty scope, unknown tokens, the guest scope, stable and unstable
 * Matrix tokens mixed, more than one device, a device without the API token, the API token without
 * a device, a device id longer than 255 characters.
 */
export function parseScope(raw: string | undefined): ParsedScope {
  if (raw === undefined || raw.trim() === '') throw new InvalidScopeError('scope is required');
  const tokens = splitScope(raw);
  const out: ParsedScope = { tokens, api: false, openid: false, admin: false, causewayAdmin: false };
  const devices: string[] = [];
  for (const t of tokens) {
    if ((OIDC_SCOPES as readonly string[]).includes(t)) {
      if (t === 'openid') out.openid = true;
      continue;
    }
    if (t === ADMIN_SCOPE) {
      out.admin = true;
      continue;
    }
    if (t === CAUSEWAY_ADMIN_SCOPE) {
      out.causewayAdmin = true;
      continue;
    }
    const m = matrixToken(t);
    if (!m) throw new InvalidScopeError(`unknown scope: ${t}`);
    if (out.namespace && out.namespace !== m.ns) throw new InvalidScopeError('stable and unstable (org.matrix.msc2967) Matrix scopes must not be mixed');
    out.namespace = m.ns;
    if (m.rest === 'api:*') out.api = true;
    else if (m.rest === 'api:guest') throw new InvalidScopeError('guest access is not offered');
    else if (m.rest.startsWith('device:')) {
      const id = m.rest.slice('device:'.length);
      const problem = deviceIdProblem(id);
      if (problem) throw new InvalidScopeError(problem);
      devices.push(id);
    } else throw new InvalidScopeError(`unknown scope: ${t}`);
  }
  if (devices.length > 1) throw new InvalidScopeError('more than one device scope');
  if (devices.length === 1 && !out.api) throw new InvalidScopeError('a device scope needs the Matrix API scope');
  if (out.api && devices.length === 0) throw new InvalidScopeError('the Matrix API scope needs exactly one device scope');
  if (devices.length === 1) out.deviceId = devices[0];
  return out;
}

/** A device id Causeway allocates: 10 characters of [A-Z0-9], as MAS and the SDKs do. */
export function generateDeviceId(random: (n: number) => number): string {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let id = '';
  for (let i = 0; i < 10; i++) id += ALPHABET[random(ALPHABET.length)];
  return id;
}

/**
 * A requested scope with a generated device token added when it asks for the Matrix API without
 * naming a device (issue 3). Anything else is returned unchanged for `parseScope` to judge.
 */
export function withDevice(raw: string | undefined, random: (n: number) => number): string | undefined {
  if (raw === undefined) return raw;
  let tokens: string[];
  try {
    tokens = splitScope(raw);
  } catch {
    return raw;
  }
  const api = tokens.find((t) => t === API_SCOPE.stable || t === API_SCOPE.unstable);
  if (!api || tokens.some((t) => matrixToken(t)?.rest.startsWith('device:'))) return raw;
  const ns = api === API_SCOPE.stable ? 'stable' : 'unstable';
  return `${tokens.join(' ')} ${NAMESPACE_PREFIX[ns]}device:${generateDeviceId(random)}`;
}

/** `scope` ⊆ `granted` (refresh may narrow, never widen; client_credentials within its allowance). */
export function isSubset(scope: string[], granted: string[]): boolean {
  const g = new Set(granted);
  return scope.every((t) => g.has(t));
}

function twin(token: string): string | undefined {
  const m = matrixToken(token);
  if (!m) return undefined;
  return NAMESPACE_PREFIX[m.ns === 'stable' ? 'unstable' : 'stable'] + m.rest;
}

/**
 * The scope as introspection reports it: every Matrix token in both namespaces (MAS does the same,
 * so any Synapse version finds the API and device tokens it looks for).
 */
export function withBothNamespaces(tokens: string[]): string[] {
  const others = tokens.filter((t) => !matrixToken(t));
  const matrix = tokens.filter((t) => matrixToken(t));
  const stable = matrix.map((t) => (matrixToken(t)!.ns === 'stable' ? t : twin(t)!));
  const unstable = stable.map((t) => twin(t)!);
  return [...others, ...stable, ...unstable];
}

/**
 * What consent is about: the scope with the device id removed (consent covers any device of that
 * client) and Matrix tokens in the stable namespace.
 */
export function consentScopes(tokens: string[]): string[] {
  const out = tokens.map((t) => {
    const m = matrixToken(t);
    if (!m) return t;
    return m.rest.startsWith('device:') ? `${NAMESPACE_PREFIX.stable}device:*` : NAMESPACE_PREFIX.stable + m.rest;
  });
  return [...new Set(out)].sort();
}

/** Every scope token Causeway may grant, as published in discovery. */
export const SUPPORTED_SCOPES = [...OIDC_SCOPES, API_SCOPE.stable, `${NAMESPACE_PREFIX.stable}device:*`, API_SCOPE.unstable, `${NAMESPACE_PREFIX.unstable}device:*`, ADMIN_SCOPE, CAUSEWAY_ADMIN_SCOPE];
