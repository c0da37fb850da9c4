import type { IncomingMessage } from 'node:http';
import { IntrospectionCache, decodeIntrospectionBody, readCapped, strictViolation, type Clock, type IntrospectionLogEntry, type IntrospectionResult } from './introspection.js';
import { isPyInt, pyTruthy } from './python-json.js';
import { SynapseError, authError, invalidToken, missingToken } from './synapse-error.js';
import type { StandinState } from './standin-state.js';

/**
 * How Synapse authenticates requests when auth is delegated: the stable `matrix_authentication_service`
 * mode (synapse/api/auth/mas.py, 1.157) and the legacy `experimental_features.msc3861` mode
 * (msc3861_delegated.py at v1.156.0). docs/contracts/synapse.md §2.
 */

export const STABLE_API_SCOPE = 'urn:matrix:client:api:*';
export const UNSTABLE_API_SCOPE = 'urn:matrix:org.matrix.msc2967.client:api:*';
export const STABLE_DEVICE_PREFIX = 'urn:matrix:client:device:';
export const UNSTABLE_DEVICE_PREFIX = 'urn:matrix:org.matrix.msc2967.client:device:';
export const ADMIN_SCOPE = 'urn:synapse:admin:*';
/** msc3861 mode records `sub` under this auth provider. */
export const EXTERNAL_ID_PROVIDER = 'oauth-delegated';

export interface Requester {
  userId: string;
  deviceId: string | null;
  scope: string[];
  isAdmin: boolean;
  appserviceId?: string;
  /** msc3861's admin_token requester `@__oidc_admin:<server>`. */
  virtualAdmin?: boolean;
}

export interface Appservice {
  id: string;
  asToken: string;
  senderLocalpart: string;
  /** Exclusive user namespace regexes (matched against full user IDs). */
  exclusiveUsers?: RegExp[];
}

export interface LegacyAuthConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  clientAuthMethod: 'client_secret_basic' | 'client_secret_post';
  /** `admin_token`: bypasses introspection as the virtual admin; authenticates /_synapse/mas/* and the admin API. */
  adminToken?: string;
  /** Override of discovery's `introspection_endpoint` (1.111+). */
  introspectionEndpoint?: string;
  accountManagementUrl?: string;
}

export interface AuthConfig {
  mode: 'stable' | 'msc3861';
  /** Stable: `matrix_authentication_service.endpoint` (the OP base URL). */
  endpoint?: string;
  /** Stable: the shared secret (both directions). */
  secret?: string;
  legacy?: LegacyAuthConfig;
  appservices: Appservice[];
}

export interface AuthRequest {
  url: URL;
  req: IncomingMessage;
}

/** `BaseAuth.get_access_token_from_request`. */
export function getAccessToken(r: AuthRequest): string {
  const authHeaders = r.req.headersDistinct.authorization;
  const query = r.url.searchParams.getAll('access_token');
  if (authHeaders && authHeaders.length) {
    if (r.url.searchParams.has('access_token')) throw missingToken('Mixing Authorization headers and access_token query parameters.');
    if (authHeaders.length > 1) throw missingToken('Too many Authorization headers.');
    const parts = authHeaders[0]!.split(' ');
    if (parts[0] === 'Bearer' && parts.length === 2) return parts[1]!;
    throw missingToken('Invalid Authorization header.');
  }
  if (!query.length) throw missingToken();
  return query[0]!;
}

/** Python's `str.split()` (any whitespace, no empties), used by authlib's scope_to_list. */
const splitWhitespace = (s: string) => s.trim().split(/\s+/).filter(Boolean);

export class DelegatedAuth {
  readonly cache: IntrospectionCache;
  readonly introspections: IntrospectionLogEntry[] = [];
  private metadataCall?: Promise<Record<string, unknown>>;
  private metadataValue?: Record<string, unknown>;
  /** Every discovery fetch (URL + outcome), for tests of the lazy, retried load. */
  readonly discoveryFetches: { at: number; url: string; ok: boolean; reason?: string }[] = [];

  constructor(
    readonly config: AuthConfig,
    private readonly state: StandinState,
    private readonly clock: Clock,
    private readonly userAgent = 'Synapse/1.157.1',
  ) {
    this.cache = new IntrospectionCache(clock);
  }

  private get base(): string {
    const e = this.config.mode === 'stable' ? this.config.endpoint : this.config.legacy?.issuer;
    if (!e) throw new Error('the stand-in has no OP endpoint configured (setEndpoint)');
    return e.replace(/\/+$/, '');
  }

  // ---- discovery -------------------------------------------------------------------------------

  /** `RetryOnExceptionCachedCall(_load_metadata)`: loaded lazily once, retried after a failure. */
  metadata(): Promise<Record<string, unknown>> {
    if (this.metadataValue) return Promise.resolve(this.metadataValue);
    this.metadataCall ??= this.loadMetadata().then(
      (m) => {
        this.metadataValue = m;
        return m;
      },
      (e) => {
        this.metadataCall = undefined;
        throw e;
      },
    );
    return this.metadataCall;
  }

  /** Forget the loaded discovery document (a Synapse restart). */
  resetMetadata(): void {
    this.metadataValue = undefined;
    this.metadataCall = undefined;
  }

  private async loadMetadata(): Promise<Record<string, unknown>> {
    const url = `${this.base}/.well-known/openid-configuration`;
    const entry = { at: this.clock.now(), url, ok: false, reason: undefined as string | undefined };
    this.discoveryFetches.push(entry);
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json', 'User-Agent': this.userAgent }, signal: AbortSignal.timeout(60_000) });
      const body = await readCapped(res);
      if (res.status < 200 || res.status >= 300) throw new Error(`discovery answered ${res.status}`);
      const doc = decodeIntrospectionBody(body);
      if (this.config.mode === 'stable') {
        // pydantic ServerMetadata: issuer and account_management_uri are StrictStr, extras kept.
        if (typeof doc.issuer !== 'string') throw new Error('issuer: Input should be a valid string');
        if (typeof doc.account_management_uri !== 'string') throw new Error('account_management_uri: Input should be a valid string');
        const { issuer, account_management_uri, ...rest } = doc;
        entry.ok = true;
        return { issuer, account_management_uri, ...rest };
      }
      entry.ok = true;
      return doc;
    } catch (e) {
      entry.reason = (e as Error).message;
      throw e;
    }
  }

  async issuer(): Promise<string> {
    const m = await this.metadata();
    if (this.config.mode === 'msc3861' && typeof m.issuer !== 'string') return this.config.legacy!.issuer;
    return m.issuer as string;
  }

  async accountManagementUrl(): Promise<string | undefined> {
    if (this.config.mode === 'msc3861' && this.config.legacy?.accountManagementUrl) return this.config.legacy.accountManagementUrl;
    const m = await this.metadata();
    return typeof m.account_management_uri === 'string' ? m.account_management_uri : undefined;
  }

  // ---- introspection ---------------------------------------------------------------------------

  private async introspectionUrl(): Promise<string> {
    if (this.config.mode === 'stable') return `${this.base}/oauth2/introspect`;
    if (this.config.legacy!.introspectionEndpoint) return this.config.legacy!.introspectionEndpoint;
    const m = await this.metadata();
    if (typeof m.introspection_endpoint !== 'string') throw new Error('no introspection_endpoint in discovery');
    return m.introspection_endpoint;
  }

  private async introspect(token: string): Promise<IntrospectionResult> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      'User-Agent': this.userAgent,
      'X-MAS-Supports-Device-Id': '1',
    };
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    if (this.config.mode === 'stable') {
      headers.Authorization = `Bearer ${this.config.secret}`;
    } else {
      const l = this.config.legacy!;
      if (l.clientAuthMethod === 'client_secret_basic') {
        // authlib's encode_client_secret_basic quotes both parts before base64.
        const creds = `${encodeURIComponent(l.clientId)}:${encodeURIComponent(l.clientSecret)}`;
        headers.Authorization = `Basic ${Buffer.from(creds).toString('base64')}`;
      } else {
        form.set('client_id', l.clientId);
        form.set('client_secret', l.clientSecret);
      }
    }
    const body = form.toString();
    const entry: IntrospectionLogEntry = { at: this.clock.now(), mode: this.config.mode, url: '', headers, body, status: 'error', outcome: 'failed' };
    this.introspections.push(entry);
    try {
      entry.url = await this.introspectionUrl();
      let res: Response;
      try {
        res = await fetch(entry.url, { method: 'POST', headers, body });
      } catch (e) {
        entry.reason = `network: ${(e as Error).message}`;
        throw e;
      }
      entry.status = res.status;
      const raw = await readCapped(res).catch((e: Error) => {
        entry.reason = e.message;
        throw e;
      });
      if (res.status < 200 || res.status >= 300) {
        entry.reason = `status ${res.status}`;
        throw new Error(entry.reason);
      }
      let decoded: Record<string, unknown>;
      try {
        decoded = decodeIntrospectionBody(raw);
      } catch (e) {
        entry.reason = `not a JSON object: ${(e as Error).message}`;
        throw e;
      }
      if (this.config.mode === 'stable') {
        const violation = strictViolation(decoded);
        if (violation) {
          entry.reason = `schema: ${violation}`;
          throw new Error(entry.reason);
        }
      }
      entry.outcome = 'ok';
      return { raw: decoded, retrievedAtMs: this.clock.now() };
    } catch (e) {
      entry.reason ??= (e as Error).message;
      throw e;
    }
  }

  // ---- requests --------------------------------------------------------------------------------

  private appserviceRequester(r: AuthRequest, token: string): Requester | undefined {
    const as = this.config.appservices.find((a) => a.asToken === token);
    if (!as) return undefined;
    const sender = this.state.userId(as.senderLocalpart);
    const userId = r.url.searchParams.get('user_id') ?? sender;
    if (userId !== sender && !(as.exclusiveUsers ?? []).some((re) => re.test(userId))) {
      throw authError(403, 'Application service cannot masquerade as this user.');
    }
    const deviceId = r.url.searchParams.get('device_id') ?? r.url.searchParams.get('org.matrix.msc3202.device_id');
    if (deviceId !== null) {
      const user = this.state.getById(userId);
      if (!user || !this.state.hasVisibleDevice(user, deviceId)) {
        throw new SynapseError(400, `Application service trying to use a device that doesn't exist ('${deviceId}' for ${userId})`, 'M_UNKNOWN_DEVICE');
      }
    }
    return { userId, deviceId, scope: [], isAdmin: false, appserviceId: as.id };
  }

  /** `get_user_by_req`: token from the request, appservice tokens first, then introspection. */
  async getUserByReq(r: AuthRequest): Promise<Requester> {
    const token = getAccessToken(r);
    return this.appserviceRequester(r, token) ?? (await this.getUserByAccessToken(token));
  }

  async getUserByAccessToken(token: string): Promise<Requester> {
    return this.config.mode === 'stable' ? this.stableUser(token) : this.legacyUser(token);
  }

  private async cachedIntrospection(token: string): Promise<IntrospectionResult> {
    try {
      return await this.cache.wrap(token, () => this.introspect(token));
    } catch {
      throw new SynapseError(503, 'Unable to introspect the access token');
    }
  }

  /** docs/contracts/synapse.md §2.3, in order. */
  private async stableUser(token: string): Promise<Requester> {
    const result = await this.cachedIntrospection(token);
    const raw = result.raw;
    const now = this.clock.now();
    const expiresIn = raw.expires_in as number | null | undefined;
    if (raw.active !== true || (expiresIn !== undefined && expiresIn !== null && now >= result.retrievedAtMs + expiresIn * 1000)) {
      throw invalidToken('Token is not active');
    }
    const scope = new Set(typeof raw.scope === 'string' ? raw.scope.split(' ').filter(Boolean) : []);
    if (!scope.has(UNSTABLE_API_SCOPE) && !scope.has(STABLE_API_SCOPE)) {
      throw invalidToken("Token doesn't grant access to the Matrix C-S API");
    }
    if (raw.username === undefined || raw.username === null) throw authError(500, 'Invalid username claim in the introspection result');
    const userId = this.state.userId(raw.username as string);
    const user = this.state.getById(userId);
    if (!user) throw authError(500, 'User not found');

    let deviceId = (raw.device_id as string | null | undefined) ?? null;
    if (deviceId === null) {
      const ids = new Set<string>();
      for (const tok of scope) {
        if (tok.startsWith(UNSTABLE_DEVICE_PREFIX)) ids.add(tok.slice(UNSTABLE_DEVICE_PREFIX.length));
        else if (tok.startsWith(STABLE_DEVICE_PREFIX)) ids.add(tok.slice(STABLE_DEVICE_PREFIX.length));
      }
      if (ids.size > 1) throw authError(500, 'Multiple device IDs in scope');
      deviceId = ids.values().next().value ?? null;
    }
    if (deviceId !== null) {
      if (deviceId.length > 255 || deviceId.length < 1) throw authError(500, 'Invalid device ID in introspection result');
      if (!this.state.hasVisibleDevice(user, deviceId)) {
        this.cache.unset(token);
        throw invalidToken('Token is not active');
      }
    }
    return { userId, deviceId, scope: [...scope], isAdmin: scope.has(ADMIN_SCOPE) };
  }

  isAdminToken(token: string): boolean {
    const admin = this.config.legacy?.adminToken;
    return this.config.mode === 'msc3861' && !!admin && token === admin;
  }

  /** msc3861 mode at v1.156.0 (§2.6). */
  private async legacyUser(token: string): Promise<Requester> {
    if (this.isAdminToken(token)) {
      return { userId: this.state.userId('__oidc_admin'), deviceId: null, scope: [ADMIN_SCOPE], isAdmin: true, virtualAdmin: true };
    }
    const result = await this.cachedIntrospection(token);
    const raw = result.raw;
    if (!pyTruthy(raw.active)) throw invalidToken('Token is not active');
    const expiresIn = raw.expires_in;
    if (expiresIn !== undefined && expiresIn !== null) {
      if (!isPyInt(expiresIn)) throw invalidToken('token `expires_in` is not an int');
      if (this.clock.now() >= result.retrievedAtMs + expiresIn * 1000) throw invalidToken('Token is not active');
    }
    const scope = typeof raw.scope === 'string' ? splitWhitespace(raw.scope) : [];
    if (!scope.includes(UNSTABLE_API_SCOPE) && !scope.includes(STABLE_API_SCOPE)) {
      throw invalidToken('No scope in token granting user rights');
    }
    const sub = typeof raw.sub === 'string' ? raw.sub : null;
    if (sub === null) throw invalidToken('Invalid sub claim in the introspection result');

    let user = [...this.state.users.values()].find((u) => u.externalIds.get(EXTERNAL_ID_PROVIDER) === sub);
    if (!user) {
      const username = typeof raw.username === 'string' ? raw.username : null;
      if (username === null) throw authError(500, 'Invalid username claim in the introspection result');
      user = this.state.get(username);
      if (!user) throw authError(500, 'User not found');
      user.externalIds.set(EXTERNAL_ID_PROVIDER, sub);
    }

    let deviceId: string | null;
    if (raw.device_id !== undefined && raw.device_id !== null) {
      if (typeof raw.device_id !== 'string') throw authError(500, 'Invalid device ID in introspection result');
      deviceId = raw.device_id;
    } else {
      const ids = new Set<string>();
      for (const tok of scope) {
        if (tok.startsWith(UNSTABLE_DEVICE_PREFIX)) ids.add(tok.slice(UNSTABLE_DEVICE_PREFIX.length));
        else if (tok.startsWith(STABLE_DEVICE_PREFIX)) ids.add(tok.slice(STABLE_DEVICE_PREFIX.length));
      }
      if (ids.size > 1) throw authError(500, 'Multiple device IDs in scope');
      deviceId = ids.values().next().value ?? null;
    }
    // Length is checked; existence is looked up but not enforced in this mode.
    if (deviceId !== null && (deviceId.length > 255 || deviceId.length < 1)) throw authError(500, 'Invalid device ID in introspection result');
    return { userId: user.userId, deviceId, scope, isAdmin: scope.includes(ADMIN_SCOPE) };
  }

  /**
   * `/_synapse/mas/*` authentication: the shared secret (stable) or admin_token (msc3861), compared
   * literally. A missing/malformed token raises 401 M_MISSING_TOKEN; a wrong one returns false.
   */
  isRequestFromMas(r: AuthRequest): boolean {
    const token = getAccessToken(r);
    const expected = this.config.mode === 'stable' ? this.config.secret : this.config.legacy?.adminToken;
    if (!expected) return false;
    return token === expected;
  }
}
