import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { startFakeIdp, type FakeIdp } from '../../support/fake-oidc-idp.js';
import { freePort } from '../../support/ports.js';
import { sql } from '../compat/compat-flow.js';
import { ulid } from '../../../src/storage/ulid.js';

/**
 * POST /upstream/{provider}/backchannel-logout on a running Causeway, with logout tokens signed by
 * a fake IdP's key (the IdP serves discovery and JWKS; the tokens are crafted here). The full path
 * (a real IdP's logout token ends a real session) is in test/e2e/oidc-broker.e2e.spec.ts.
 * SQLite runs without Redis (jti cache in the database), PostgreSQL with Redis.
 */

const CLIENT = 'causeway-bcl';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe.each(TEST_DBS)('back-channel logout receiver (%s)', (db) => {
  let idp: FakeIdp;
  let cw: CausewayProcess;
  let endpoint: string;

  beforeAll(async () => {
    idp = await startFakeIdp();
    const oidc = { kind: 'oidc', issuer: idp.issuer, client_id: CLIENT, client_secret: 's3cret', allow_insecure_http: true };
    cw = await startCauseway({
      db,
      config: {
        ...(db === 'postgres' ? { redis: { url: 'redis://127.0.0.1:6379', key_prefix: `test:bcl:${randomBytes(4).toString('hex')}:` } } : {}),
        upstream: {
          providers: [
            { id: 'corp', name: 'Corp', backchannel_logout: true, ...oidc },
            { id: 'nobcl', name: 'No BCL', ...oidc },
            { id: 'gone', name: 'Gone', ...oidc, issuer: `http://127.0.0.1:${await freePort()}` },
            { id: 'dev', kind: 'dev', name: 'Dev' },
          ],
        },
      },
    });
    endpoint = `${cw.url}/upstream/corp/backchannel-logout`;
  });

  afterAll(async () => {
    await cw?.dispose();
    await idp?.close();
    if (cw) expect(cw.logs.filter((l) => l.includes('"level":"error"') || l.includes('unhandled error'))).toEqual([]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  function claims(over: Record<string, unknown> = {}): JWTPayload {
    const c: Record<string, unknown> = { iss: idp.issuer, aud: CLIENT, iat: now(), jti: randomBytes(8).toString('hex'), sub: 'alice', sid: 'sid-x', events: { [EVENT]: {} } };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete c[k];
      else c[k] = v;
    }
    return c;
  }
  const token = (over: Record<string, unknown> = {}, o: Parameters<FakeIdp['sign']>[1] = {}) => idp.sign(claims(over), { typ: 'logout+jwt', ...o });
  const post = (body: string | URLSearchParams, url = endpoint, contentType = 'application/x-www-form-urlencoded') => fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: body.toString() });
  async function refused(res: Response, description: RegExp) {
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { error: string; error_description?: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(description);
  }

  it('readiness: a reachable OIDC provider is up, an unreachable one degraded (the replica stays ready)', async () => {
    let body: { status: string; components: Record<string, { status: string; detail?: string }> } | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${cw.url}/health/ready`);
      expect(res.status).toBe(200);
      body = (await res.json()) as typeof body;
      if (body!.components['upstream:corp']?.detail === undefined && body!.components['upstream:gone']?.status === 'degraded') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body!.components['upstream:corp']).toEqual({ status: 'up' });
    expect(body!.components['upstream:gone']).toMatchObject({ status: 'degraded', detail: expect.stringContaining('discovery') });
    expect(body!.status).toBe('degraded');
  });

  it('accepts a valid logout token: 200, no-store', async () => {
    const res = await post(new URLSearchParams({ logout_token: await token() }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('accepts sub only and sid only', async () => {
    expect((await post(new URLSearchParams({ logout_token: await token({ sid: undefined }) }))).status).toBe(200);
    expect((await post(new URLSearchParams({ logout_token: await token({ sub: undefined }) }))).status).toBe(200);
  });

  it('with both sid and sub, ends only a session matching both (issue 13)', async () => {
    // Bob's sign-in at corp: its upstream session (sid shared-sid) and the OAuth session born from it.
    const t = Date.now();
    const ids = { user: ulid(), browser: ulid(), upstream: ulid(), session: ulid() };
    const localpart = `bob${randomBytes(3).toString('hex')}`;
    await sql(cw, 'INSERT INTO users (id, localpart, created_at, can_request_admin) VALUES ($1, $2, $3, $4)', [ids.user, localpart, t, db === 'postgres' ? false : 0]);
    await sql(cw, 'INSERT INTO browser_sessions (id, user_id, provider_id, upstream_session_id, created_at, authenticated_at) VALUES ($1, $2, $3, $4, $5, $6)', [ids.browser, ids.user, 'corp', ids.upstream, t, t]);
    await sql(cw, 'INSERT INTO upstream_sessions (id, provider_id, subject, user_id, upstream_sid, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      ids.upstream,
      'corp',
      localpart,
      ids.user,
      'shared-sid',
      ids.browser,
      t,
    ]);
    await sql(cw, 'INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, browser_session_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      ids.session,
      ids.user,
      'c',
      'D1',
      'openid',
      'authorization_code',
      ids.browser,
      t,
    ]);
    const finished = async () => (await sql<{ finished_at: unknown }>(cw, 'SELECT finished_at FROM oauth2_sessions WHERE id = $1', [ids.session]))[0]!.finished_at;

    expect((await post(new URLSearchParams({ logout_token: await token({ sid: 'shared-sid', sub: 'mallory' }) }))).status).toBe(200);
    expect(await finished()).toBeNull();
    expect((await post(new URLSearchParams({ logout_token: await token({ sid: 'shared-sid', sub: localpart }) }))).status).toBe(200);
    expect(await finished()).not.toBeNull();
  });

  it('refuses a replayed jti', async () => {
    const t = await token();
    expect((await post(new URLSearchParams({ logout_token: t }))).status).toBe(200);
    await refused(await post(new URLSearchParams({ logout_token: t })), /already used/);
  });

  it.each([
    ['a nonce', { nonce: 'n-1' }, /must not contain a nonce/],
    ['events without the back-channel logout event', { events: { 'http://schemas.openid.net/event/other': {} } }, /events must contain/],
    ['the event as a string', { events: { [EVENT]: 'logout' } }, /events must contain/],
    ['no events', { events: undefined }, /no events claim/],
    ['neither sid nor sub', { sid: undefined, sub: undefined }, /sid or sub/],
    ['no jti', { jti: undefined }, /no jti claim/],
    ['another issuer', { iss: 'https://evil.example.com' }, /iss/],
    ['another audience', { aud: 'someone-else' }, /aud/],
    ['an old iat', { iat: now() - 3600 }, /too old|window/],
  ])('refuses a token with %s', async (_n, over, description) => {
    await refused(await post(new URLSearchParams({ logout_token: await token(over) })), description);
  });

  it('refuses a token signed by another key', async () => {
    await refused(await post(new URLSearchParams({ logout_token: await token({}, { key: idp.otherKey }) })), /signature/);
  });

  it('refuses alg none', async () => {
    await refused(await post(new URLSearchParams({ logout_token: idp.unsigned(claims()) })), /asymmetric/);
  });

  it('refuses HS256 (a key anyone holding the client secret could use)', async () => {
    const t = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(new TextEncoder().encode('s3cret'.padEnd(32, 'x')));
    await refused(await post(new URLSearchParams({ logout_token: t })), /asymmetric/);
  });

  it('refuses a wrong typ', async () => {
    await refused(await post(new URLSearchParams({ logout_token: await token({}, { typ: 'JWT' }) })), /typ/);
  });

  it.each([
    ['no logout_token', new URLSearchParams({ token: 'x' })],
    ['an empty logout_token', new URLSearchParams({ logout_token: '' })],
    [
      'two logout_tokens',
      new URLSearchParams([
        ['logout_token', 'a.b.c'],
        ['logout_token', 'd.e.f'],
      ]),
    ],
    ['garbage', new URLSearchParams({ logout_token: 'not a jwt' })],
  ])('refuses %s with invalid_request', async (_n, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses a JSON body with a 4xx in OAuth shape', async () => {
    const res = await post(JSON.stringify({ logout_token: await token() }), endpoint, 'application/json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses an oversized body without a 500', async () => {
    const res = await post(new URLSearchParams({ logout_token: 'x'.repeat(2_000_000) }));
    expect([400, 413]).toContain(res.status);
  });

  it.each([
    ['a provider without back-channel logout', 'nobcl'],
    ['a provider of another kind', 'dev'],
    ['an unknown provider', 'nope'],
  ])('answers 404 for %s', async (_n, id) => {
    const res = await post(new URLSearchParams({ logout_token: await token() }), `${cw.url}/upstream/${id}/backchannel-logout`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('not_found');
  });
});
