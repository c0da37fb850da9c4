import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';

/** Discovery does not depend on the database: SQLite only. */
describe('discovery', () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    cw = await startCauseway({ db: 'sqlite' });
  });
  afterAll(() => cw?.dispose());

  it('serves every field Matrix clients and Synapse check (contract §1.3)', async () => {
    const res = await fetch(`${cw.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const d = (await res.json()) as Record<string, unknown>;
    const base = cw.issuer;
    expect(d).toMatchObject({
      issuer: base,
      authorization_endpoint: `${base}authorize`,
      token_endpoint: `${base}oauth2/token`,
      revocation_endpoint: `${base}oauth2/revoke`,
      registration_endpoint: `${base}oauth2/registration`,
      introspection_endpoint: `${base}oauth2/introspect`,
      userinfo_endpoint: `${base}oauth2/userinfo`,
      jwks_uri: `${base}oauth2/keys.json`,
      device_authorization_endpoint: `${base}oauth2/device`,
      end_session_endpoint: `${base}end-session`,
      account_management_uri: `${base}account/`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment'],
      code_challenge_methods_supported: ['S256'],
      prompt_values_supported: ['create'],
    });
    expect(d.issuer).toMatch(/\/$/);
    expect(d.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']));
    expect(d.token_endpoint_auth_methods_supported).toContain('none');
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'urn:matrix:client:api:*', 'urn:matrix:org.matrix.msc2967.client:api:*', 'urn:synapse:admin:*']));
    expect(d.account_management_actions_supported).toEqual(
      expect.arrayContaining(['org.matrix.profile', 'org.matrix.devices_list', 'org.matrix.device_view', 'org.matrix.device_delete', 'org.matrix.account_deactivate', 'org.matrix.cross_signing_reset']),
    );
    expect(d.id_token_signing_alg_values_supported).toContain('RS256');
  });

  it.each(['/_matrix/client/v1/auth_metadata', '/_matrix/client/unstable/org.matrix.msc2965/auth_metadata'])('serves the same document at %s with the caching header', async (path) => {
    const [a, b] = await Promise.all([fetch(`${cw.url}${path}`), fetch(`${cw.url}/.well-known/openid-configuration`)]);
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toBe('public, max-age=600, s-maxage=3600, stale-while-revalidate=600');
    expect(a.headers.get('access-control-allow-origin')).toBe('*');
    expect(await a.json()).toEqual(await b.json());
  });

  it('serves auth_issuer for matrix-js-sdk 41', async () => {
    const res = await fetch(`${cw.url}/_matrix/client/unstable/org.matrix.msc2965/auth_issuer`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ issuer: cw.issuer });
  });

  it('answers CORS preflights on the OAuth endpoints', async () => {
    const res = await fetch(`${cw.url}/oauth2/token`, { method: 'OPTIONS', headers: { origin: 'https://app.element.io', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });

  it('publishes the signing keys (public parts only)', async () => {
    const res = await fetch(`${cw.url}/oauth2/keys.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.some((k) => k.kty === 'RSA' && k.alg === 'RS256' && k.use === 'sig' && k.kid)).toBe(true);
    for (const k of keys) for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(priv);
  });
});

describe('rate limits', () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    // 300/min × 0.01 = 3 registrations a minute.
    cw = await startCauseway({ db: 'sqlite', env: { CAUSEWAY_RATE_LIMIT_SCALE: '0.01' }, config: { admin: { token: 'admin-token-0123456789abcdef' } } });
  });
  afterAll(() => cw?.dispose());

  it('answers 429 in the OAuth error shape', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${cw.url}/oauth2/registration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([400, 400, 400]);
    expect(statuses[4]).toBe(429);
    const body = (await last!.json()) as Record<string, unknown>;
    expect(body.error).toBe('temporarily_unavailable');
    expect(body).not.toHaveProperty('errcode');
  });

  it('limits /authorize (each one stores a login) with a page that says to wait', async () => {
    // 300/min × 0.01 = 3.
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${cw.url}/authorize?client_id=nope`, { redirect: 'manual' });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(statuses[4]).toBe(429);
    expect(last!.headers.get('content-type')).toMatch(/text\/html/);
    expect(await last!.text()).toContain('Too many attempts');
  });

  it('limits the admin API, failed authentications included, in its JSON shape', async () => {
    // 600/min × 0.01 = 6.
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 8; i++) {
      last = await fetch(`${cw.url}/api/admin/v1/events/status`, { headers: { authorization: 'Bearer wrong-token-0123456789' } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses[7]).toBe(429);
    expect(((await last!.json()) as { error?: string }).error).toBeDefined();
  });

  it('does not limit inbound logout from an IdP (many sign-outs come from one address)', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 10; i++) statuses.add((await fetch(`${cw.url}/upstream/dev/backchannel-logout`, { method: 'POST' })).status);
    expect(statuses.has(429)).toBe(false);
  });
});
