import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser } from '../../support/browser.js';
import { basic, bearer, postForm, registerClient } from '../../integration/oauth2/oauth-http.js';
import { webClient } from '../../integration/login/login-flow.js';
import { APP_REDIRECT, postJson, ssoLogin } from '../../integration/compat/compat-flow.js';

/**
 * Issue 13, F5: a NUL byte in `client_id`, a compat `device_id` or an admin reference reached
 * PostgreSQL and came back as an unauthenticated 500 (token, authorize, revoke, introspect, device,
 * end-session, admin API); the compat `POST /login` spent the login token first. Plus the token
 * endpoint's answer to a JSON body (RFC 6749 §3.2: form encoding), which was 401 invalid_client.
 */
const ADMIN = 'admin-token-for-the-f5-regression-0123456789';

describe.each(TEST_DBS)('control characters at the edge (%s)', (db) => {
  let cw: CausewayProcess;
  let clientId: string;

  beforeAll(async () => {
    cw = await startCauseway({
      db,
      config: {
        matrix: { api: 'none' },
        admin: { token: ADMIN },
        clients: [{ client_id: 'legacy', client_auth_method: 'client_secret_post', client_secret: 'legacy-secret-0123456789', introspection: true, grant_types: ['client_credentials'] }],
      },
    });
    clientId = await registerClient(cw.url, webClient('F5 app'));
  });
  afterAll(async () => {
    await cw?.dispose();
    if (cw) expect(cw.logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });

  const NUL = 'a\u0000b';

  it.each([
    ['token', () => postForm(`${cw.url}/oauth2/token`, { grant_type: 'authorization_code', client_id: NUL, code: 'x', redirect_uri: 'http://localhost:3000/cb' })],
    ['revoke', () => postForm(`${cw.url}/oauth2/revoke`, { token: 'mat_x', client_id: NUL })],
    ['device', () => postForm(`${cw.url}/oauth2/device`, { client_id: NUL, scope: 'openid' })],
    ['introspect (client_secret_post)', () => postForm(`${cw.url}/oauth2/introspect`, { token: 'mat_x', client_id: NUL, client_secret: 'x' })],
    ['introspect (token)', () => postForm(`${cw.url}/oauth2/introspect`, { token: `mat_${NUL}` }, bearer(SHARED_SECRET))],
  ])('%s: a NUL byte is 400 invalid_request in OAuth JSON', async (_what, send) => {
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_request');
  });

  it('introspect: a NUL byte in Basic credentials names no client (401 invalid_client, not a 500)', async () => {
    const res = await postForm(`${cw.url}/oauth2/introspect`, { token: 'mat_x' }, basic(NUL, 'x'));
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('invalid_client');
  });

  it.each([
    ['authorize', `/authorize?response_type=code&client_id=${encodeURIComponent(NUL)}`],
    ['end-session', `/end-session?client_id=${encodeURIComponent(NUL)}&post_logout_redirect_uri=x`],
    ['a login page', `/login/${encodeURIComponent(NUL)}`],
  ])('%s: a NUL byte in the query or path is a 400 page', async (_what, path) => {
    const res = await fetch(`${cw.url}${path}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('admin API: a NUL byte in a reference is 400 M_INVALID_PARAM, signed in or not', async () => {
    for (const headers of [bearer(ADMIN), {}]) {
      for (const [method, path] of [
        ['GET', `/users/${encodeURIComponent(NUL)}`],
        ['POST', `/users/${encodeURIComponent(NUL)}/lock`],
        ['GET', `/sessions/${encodeURIComponent(NUL)}`],
      ] as const) {
        const res = await fetch(`${cw.url}/api/admin/v1${path}`, { method, headers });
        expect(res.status).toBe(400);
        expect(((await res.json()) as { errcode: string }).errcode).toBe('M_INVALID_PARAM');
      }
    }
    // A reference of no shape the API knows is refused before any lookup too.
    const odd = await fetch(`${cw.url}/api/admin/v1/users/${encodeURIComponent('a b')}`, { headers: bearer(ADMIN) });
    expect(odd.status).toBe(400);
  });

  it('compat /login: a device_id with a NUL byte (or newline, bidi control, "..") is refused before the login token is spent', async () => {
    const { loginToken } = await ssoLogin(new Browser(), cw.url, 'nadia', APP_REDIRECT);
    // Control characters anywhere in the body: M_BAD_JSON; a device id outside the grammar: M_INVALID_PARAM.
    for (const [device_id, errcode] of [
      [NUL, 'M_BAD_JSON'],
      ['A\nB', 'M_INVALID_PARAM'],
      ['A\u202EB', 'M_INVALID_PARAM'],
      ['..', 'M_INVALID_PARAM'],
      ['A B', 'M_INVALID_PARAM'],
    ]) {
      const res = await postJson(`${cw.url}/_matrix/client/v3/login`, { type: 'm.login.token', token: loginToken, device_id });
      expect(res.status).toBe(400);
      expect(res.json.errcode).toBe(errcode);
    }
    const nul = await postJson(`${cw.url}/_matrix/client/v3/login`, { type: 'm.login.token', token: loginToken, initial_device_display_name: NUL });
    expect(nul.status).toBe(400);
    expect(nul.json.errcode).toBe('M_BAD_JSON');
    const ok = await postJson(`${cw.url}/_matrix/client/v3/login`, { type: 'm.login.token', token: loginToken, device_id: 'NADIADEV01' });
    expect(ok.status).toBe(200);
    expect(ok.json.device_id).toBe('NADIADEV01');
  });

  it('the token endpoint answers a JSON body with 400 invalid_request naming the content type', async () => {
    const res = await fetch(`${cw.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', client_id: clientId, code: 'x', redirect_uri: 'http://localhost:3000/cb' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toContain('application/json');
  });
});
