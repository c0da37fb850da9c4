import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';

const elementWeb = {
  client_name: 'Element',
  client_uri: 'https://app.element.io',
  redirect_uris: ['https://app.element.io/?no_universal_links=true'],
  logo_uri: 'https://app.element.io/vector-icons/1024.png',
  application_type: 'web',
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
};

describe.each(TEST_DBS)('dynamic client registration on %s', (db) => {
  let cw: CausewayProcess;
  // The strict policy (no http on loopback), as in production.
  beforeAll(async () => {
    cw = await startCauseway({ db, config: { policy: { allow_insecure_uris: false } } });
  });
  afterAll(() => cw?.dispose());

  const register = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${cw.url}/oauth2/registration`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('registers Element Web: 201, JSON, client_id and client_id_issued_at, metadata echoed', async () => {
    const res = await register(elementWeb);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await res.json()) as Record<string, unknown>;
    expect(typeof body.client_id).toBe('string');
    expect(Number.isInteger(body.client_id_issued_at)).toBe(true);
    expect(body).toMatchObject(elementWeb);
  });

  it('gives identical public registrations the same client_id', async () => {
    const a = (await (await register(elementWeb)).json()) as Record<string, unknown>;
    const b = (await (await register({ ...elementWeb, grant_types: [...elementWeb.grant_types].reverse().reverse() })).json()) as Record<string, unknown>;
    expect(b.client_id).toBe(a.client_id);
    const c = (await (await register({ ...elementWeb, client_name: 'Element (other)' })).json()) as Record<string, unknown>;
    expect(c.client_id).not.toBe(a.client_id);
  });

  it('registers Element X (native, private-use scheme) and a device-code-only client without redirect URIs', async () => {
    const x = await register({
      application_type: 'native',
      client_uri: 'https://element.io',
      client_name: 'Element X',
      logo_uri: 'https://element.io/mobile-icon.png',
      tos_uri: 'https://element.io/acceptable-use-policy-terms',
      policy_uri: 'https://element.io/privacy',
      redirect_uris: ['io.element:/callback'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    });
    expect(x.status).toBe(201);
    const qr = await register({
      application_type: 'native',
      client_uri: 'https://element.io',
      client_name: 'Element X',
      token_endpoint_auth_method: 'none',
      grant_types: ['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    });
    expect(qr.status).toBe(201);
    expect(await qr.json()).toMatchObject({ grant_types: ['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'], response_types: [] });
  });

  it('accepts localized fields and drops unknown fields and grant types', async () => {
    const res = await register({
      ...elementWeb,
      'client_name#fr': 'Élément',
      'client_uri#de': 'https://app.element.io/de',
      software_statement: 'x',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['client_name#fr']).toBe('Élément');
    expect(body['client_uri#de']).toBe('https://app.element.io/de');
    expect(body).not.toHaveProperty('software_statement');
    expect(body.grant_types).toEqual(['authorization_code', 'refresh_token']);
  });

  it('issues a secret to a confidential client, each time', async () => {
    const body = { ...elementWeb, token_endpoint_auth_method: 'client_secret_basic' };
    const a = (await (await register(body)).json()) as Record<string, unknown>;
    const b = (await (await register(body)).json()) as Record<string, unknown>;
    expect(typeof a.client_secret).toBe('string');
    expect(a.client_secret_expires_at).toBe(0);
    expect(b.client_id).not.toBe(a.client_id);
  });

  // Every rule of docs/contracts/matrix-clients.md §2.2, with the wire error.
  const cases: [string, Record<string, unknown>, string][] = [
    ['client_uri missing', { ...elementWeb, client_uri: undefined }, 'invalid_client_metadata'],
    ['client_uri not https', { ...elementWeb, client_uri: 'http://app.element.io' }, 'invalid_client_metadata'],
    ['client_uri with credentials', { ...elementWeb, client_uri: 'https://user:pw@app.element.io' }, 'invalid_client_metadata'],
    ['client_uri a public suffix (co.uk)', { ...elementWeb, client_uri: 'https://co.uk', redirect_uris: ['https://co.uk/cb'], logo_uri: undefined }, 'invalid_client_metadata'],
    ['client_uri a private public suffix (github.io)', { ...elementWeb, client_uri: 'https://github.io', redirect_uris: ['https://github.io/cb'], logo_uri: undefined }, 'invalid_client_metadata'],
    ['logo_uri on another host', { ...elementWeb, logo_uri: 'https://evil.example/logo.png' }, 'invalid_client_metadata'],
    ['tos_uri not https', { ...elementWeb, tos_uri: 'http://app.element.io/tos' }, 'invalid_client_metadata'],
    ['policy_uri with credentials', { ...elementWeb, policy_uri: 'https://u:p@app.element.io/privacy' }, 'invalid_client_metadata'],
    ['application_type unknown', { ...elementWeb, application_type: 'desktop' }, 'invalid_client_metadata'],
    ['authorization_code without redirect_uris', { ...elementWeb, redirect_uris: [] }, 'invalid_redirect_uri'],
    ['grant_types absent (defaults to authorization_code) and no redirect_uris', { ...elementWeb, grant_types: undefined, redirect_uris: undefined }, 'invalid_redirect_uri'],
    ['response_types without code', { ...elementWeb, response_types: ['token'] }, 'invalid_client_metadata'],
    ['grant_types without refresh_token', { ...elementWeb, grant_types: ['authorization_code'] }, 'invalid_client_metadata'],
    ['redirect URI relative', { ...elementWeb, redirect_uris: ['/callback'] }, 'invalid_redirect_uri'],
    ['redirect URI with a fragment', { ...elementWeb, redirect_uris: ['https://app.element.io/#cb'] }, 'invalid_redirect_uri'],
    ['web redirect not https', { ...elementWeb, redirect_uris: ['http://app.element.io/callback'] }, 'invalid_redirect_uri'],
    ['web redirect with credentials', { ...elementWeb, redirect_uris: ['https://u:p@app.element.io/callback'] }, 'invalid_redirect_uri'],
    ['web redirect on another host', { ...elementWeb, redirect_uris: ['https://evil.example/callback'] }, 'invalid_redirect_uri'],
    ['web redirect to loopback', { ...elementWeb, redirect_uris: ['http://localhost/'] }, 'invalid_redirect_uri'],
    ['native scheme not the reversed host', { ...elementWeb, application_type: 'native', redirect_uris: ['example:/callback'] }, 'invalid_redirect_uri'],
    ['native scheme with an authority', { ...elementWeb, application_type: 'native', client_uri: 'https://example.com', logo_uri: undefined, redirect_uris: ['com.example.app://callback'] }, 'invalid_redirect_uri'],
    ['native loopback with a port', { ...elementWeb, application_type: 'native', redirect_uris: ['http://localhost:1234/callback'] }, 'invalid_redirect_uri'],
    ['native loopback over https', { ...elementWeb, application_type: 'native', redirect_uris: ['https://localhost/callback'] }, 'invalid_redirect_uri'],
    ['native claimed https on another host', { ...elementWeb, application_type: 'native', redirect_uris: ['https://evil.example/callback'] }, 'invalid_redirect_uri'],
    ['client_credentials with auth method none', { ...elementWeb, grant_types: ['client_credentials', 'refresh_token'], redirect_uris: undefined }, 'invalid_client_metadata'],
    ['wrongly typed field', { ...elementWeb, client_name: 42 }, 'invalid_client_metadata'],
    ['redirect_uris not an array', { ...elementWeb, redirect_uris: 'https://app.element.io/' }, 'invalid_client_metadata'],
  ];
  it.each(cases)('refuses %s', async (_name, body, error) => {
    const res = await register(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.error).toBe(error);
    expect(typeof json.error_description).toBe('string');
    expect(json).not.toHaveProperty('errcode');
  });

  it('accepts native loopback redirect URIs without a port', async () => {
    for (const uri of ['http://localhost/callback', 'http://127.0.0.1/callback', 'http://[::1]/callback']) {
      expect((await register({ ...elementWeb, application_type: 'native', redirect_uris: [uri] })).status).toBe(201);
    }
  });

  it('answers invalid_request for malformed JSON, a non-object body or a wrong content type', async () => {
    for (const [body, headers] of [
      ['{"client_uri":', { 'content-type': 'application/json' }],
      ['[1,2]', { 'content-type': 'application/json' }],
      ['"text"', { 'content-type': 'application/json' }],
      ['client_uri=https://app.element.io', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['hello', { 'content-type': 'text/plain' }],
    ] as const) {
      const res = await register(body, { ...headers });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Record<string, unknown>).error).toBe('invalid_request');
    }
  });

  it('refuses an oversized body with 413 in the OAuth shape, never a 500', async () => {
    const res = await register({ ...elementWeb, client_name: 'x'.repeat(300 * 1024) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Record<string, unknown>).error).toBe('invalid_request');
  });
});
