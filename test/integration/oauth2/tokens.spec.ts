import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { AccessTokenEntity, AuditLogEntity, OAuth2SessionEntity, OutboxEntity, UserEntity } from '../../../src/storage/entities/index.js';
import { In } from 'typeorm';
import { AuthorizationRedirectError } from '../../../src/oauth2/authorize/authorization-redirect.error.js';
import { OAuth2RefusalError } from '../../../src/oauth2/refusal.error.js';
import { OAuthSeeder, pkce } from './oauth-seeder.js';
import { basic, bearer, postForm, registerClient, sleep } from './oauth-http.js';

const CLIENT_URI = 'http://localhost:3000';
const REDIRECT = 'http://localhost:3000/cb?no_universal_links=true';
const webClient = (name: string) => ({
  client_name: name,
  client_uri: CLIENT_URI,
  redirect_uris: [REDIRECT],
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
});

const TTL = { code: 2, access: 4, device: 3 };

describe.each(TEST_DBS)('token, introspection, revocation, userinfo, device authorization on %s', (db) => {
  let cw: CausewayProcess;
  let seed: OAuthSeeder;
  let clientA: string;
  let clientB: string;
  let noDeviceClient: string;
  const token = (form: Record<string, string>, headers: Record<string, string> = {}) => postForm(`${cw.url}/oauth2/token`, form, headers);
  const introspect = (t: string, headers: Record<string, string> = bearer(SHARED_SECRET), extra: Record<string, string> = {}) =>
    postForm(`${cw.url}/oauth2/introspect`, { token: t, token_type_hint: 'access_token', ...extra }, headers);
  const revoke = (form: Record<string, string>, headers: Record<string, string> = {}) => postForm(`${cw.url}/oauth2/revoke`, form, headers);

  beforeAll(async () => {
    cw = await startCauseway({
      db,
      config: {
        tokens: { authorization_code_ttl: TTL.code, access_token_ttl: TTL.access, device_code_ttl: TTL.device, device_code_interval: 1 },
        policy: { admin_localparts: ['root'] },
        clients: [
          { client_id: 'legacy-basic', client_auth_method: 'client_secret_basic', client_secret: 'legacy-basic-secret', introspection: true, grant_types: ['client_credentials'] },
          { client_id: 'legacy-post', client_auth_method: 'client_secret_post', client_secret: 'legacy-post-secret', introspection: true, grant_types: ['client_credentials'] },
          { client_id: 'admin-tool', client_auth_method: 'client_secret_basic', client_secret: 'admin-tool-secret', grant_types: ['client_credentials'], client_credentials_scopes: ['urn:synapse:admin:*'] },
          { client_id: 'reader', client_auth_method: 'client_secret_post', client_secret: 'reader-secret', grant_types: ['client_credentials'], client_credentials_scopes: ['openid'] },
        ],
      },
    });
    seed = await OAuthSeeder.open(cw);
    clientA = await registerClient(cw.url, webClient('A'));
    clientB = await registerClient(cw.url, webClient('B'));
    noDeviceClient = await registerClient(cw.url, { ...webClient('no device'), grant_types: ['authorization_code', 'refresh_token'] });
  });
  afterAll(async () => {
    await seed?.close();
    await cw?.dispose();
  });

  /** A signed-in user's code for client A (openid: no homeserver provisioning needed). */
  async function code(opts: { clientId?: string; scope?: string; nonce?: string; mode?: 'query' | 'fragment' } = {}) {
    const user = await seed.user();
    const r = await seed.authorize(
      { client_id: opts.clientId ?? clientA, redirect_uri: REDIRECT, scope: opts.scope ?? 'openid', state: 'st-1', ...(opts.nonce ? { nonce: opts.nonce } : {}), ...(opts.mode ? { response_mode: opts.mode } : {}) },
      user,
    );
    return { ...r, user };
  }
  const exchange = (c: { code: string; verifier: string }, extra: Record<string, string> = {}) =>
    token({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: clientA, code_verifier: c.verifier, ...extra });

  describe('/authorize checks (service layer)', () => {
    const validate = (params: Record<string, unknown>) =>
      seed.authorizations.validate({ client_id: clientA, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: 's t', code_challenge_method: 'S256', code_challenge: pkce().challenge, ...params });
    const redirectError = async (params: Record<string, unknown>) => {
      const e = await validate(params).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(AuthorizationRedirectError);
      const loc = (e as AuthorizationRedirectError).location;
      expect(loc.startsWith(REDIRECT)).toBe(true);
      const q = new URLSearchParams(loc.includes('#') && !loc.endsWith('#') ? loc.split('#')[1] : loc.slice(loc.indexOf('?') + 1).replace(/#$/, ''));
      expect(q.get('state')).toBe('s t');
      expect(q.get('no_universal_links') ?? 'true').toBe('true');
      return q.get('error');
    };
    it('accepts a good request, with both Matrix namespaces and 255-character device ids', async () => {
      expect(await validate({})).toMatchObject({ clientId: clientA, redirectUri: REDIRECT, responseMode: 'query', scope: ['openid'], state: 's t' });
      const dev = 'A+/'.repeat(85);
      expect((await validate({ scope: `urn:matrix:org.matrix.msc2967.client:api:* urn:matrix:org.matrix.msc2967.client:device:${dev}` })).deviceId).toBe(dev);
    });
    it('generates a device id when the Matrix API scope names none, in the namespace the client used', async () => {
      for (const ns of ['urn:matrix:client:', 'urn:matrix:org.matrix.msc2967.client:']) {
        const req = await validate({ scope: `${ns}api:*` });
        expect(req.deviceId).toMatch(/^[A-Z0-9]{10}$/);
        expect(req.scope).toEqual([`${ns}api:*`, `${ns}device:${req.deviceId}`]);
      }
    });
    it('shows a page (never redirects) for an unknown client or a redirect URI that differs, even by a trailing slash', async () => {
      for (const params of [{ client_id: 'nope' }, { redirect_uri: `${REDIRECT}/` }, { redirect_uri: 'http://localhost:3000/cb' }, { redirect_uri: 'https://evil.example/cb' }, { client_id: [clientA, clientB] }]) {
        await expect(validate(params)).rejects.toBeInstanceOf(OAuth2RefusalError);
      }
    });
    it('redirects missing or plain PKCE, bad response types/modes, scopes, duplicates and request objects with the right error', async () => {
      expect(await redirectError({ code_challenge: undefined })).toBe('invalid_request');
      expect(await redirectError({ code_challenge_method: 'plain' })).toBe('invalid_request');
      expect(await redirectError({ code_challenge_method: undefined })).toBe('invalid_request');
      expect(await redirectError({ code_challenge: 'short' })).toBe('invalid_request');
      expect(await redirectError({ response_type: 'token' })).toBe('unsupported_response_type');
      expect(await redirectError({ response_mode: 'form_post' })).toBe('invalid_request');
      expect(await redirectError({ scope: 'urn:matrix:client:api:* urn:matrix:org.matrix.msc2967.client:api:*' })).toBe('invalid_scope');
      expect(await redirectError({ scope: 'openid unknown' })).toBe('invalid_scope');
      expect(await redirectError({ scope: ['openid', 'openid'] })).toBe('invalid_request');
      expect(await redirectError({ request: 'eyJ' })).toBe('request_not_supported');
      expect(await redirectError({ request_uri: 'https://x' })).toBe('request_uri_not_supported');
      expect(await redirectError({ registration: '{}' })).toBe('registration_not_supported');
      expect(await redirectError({ response_mode: 'fragment', response_type: 'token' })).toBe('unsupported_response_type');
    });
  });

  describe('authorization_code', () => {
    it('issues tokens: 200, JSON, no-store, Bearer, integer expires_in, refresh token, scope, signed id_token', async () => {
      const c = await code({ nonce: 'n-123' });
      expect(c.location.endsWith('#')).toBe(true);
      expect(c.state).toBe('st-1');
      const res = await exchange(c);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: TTL.access, scope: 'openid' });
      expect(res.json.access_token).toMatch(/^mat_/);
      expect(res.json.refresh_token).toMatch(/^mar_/);
      const jwks = createRemoteJWKSet(new URL(`${cw.url}/oauth2/keys.json`));
      const { payload, protectedHeader } = await jwtVerify(res.json.id_token as string, jwks, { issuer: cw.issuer, audience: clientA });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({ sub: c.user.userId, nonce: 'n-123' });
      expect(typeof payload.auth_time).toBe('number');
      const atHash = createHash('sha256')
        .update(res.json.access_token as string)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      expect(payload.at_hash).toBe(atHash);
    });
    it('supports fragment mode', async () => {
      const c = await code({ mode: 'fragment' });
      expect(c.location.startsWith(`${REDIRECT}#state=st-1&code=`)).toBe(true);
      expect((await exchange(c)).status).toBe(200);
    });
    it('refuses a missing or wrong PKCE verifier', async () => {
      const c = await code();
      expect((await exchange(c, { code_verifier: '' })).json.error).toBe('invalid_grant');
      expect((await exchange(c, { code_verifier: pkce().verifier })).json.error).toBe('invalid_grant');
      expect((await exchange(c, { code_verifier: c.verifier + 'x' })).json.error).toBe('invalid_grant');
    });
    it('refuses a redirect_uri that differs from the one at /authorize, even by a trailing slash', async () => {
      const c = await code();
      for (const r of [`${REDIRECT}/`, 'http://localhost:3000/cb', 'http://localhost:3000/cb?no_universal_links=true&x=1']) {
        const res = await exchange(c, { redirect_uri: r });
        expect(res.status).toBe(400);
        expect(res.json.error).toBe('invalid_grant');
      }
      expect((await exchange(c)).status).toBe(200);
    });
    it('refuses a code issued to another client', async () => {
      const c = await code();
      const res = await exchange(c, { client_id: clientB });
      expect(res.json.error).toBe('invalid_grant');
    });
    it('refuses a reused code and revokes the tokens issued from it', async () => {
      const c = await code();
      const first = await exchange(c);
      expect(first.status).toBe(200);
      expect((await introspect(first.json.access_token as string)).json.active).toBe(true);
      const replay = await exchange(c);
      expect(replay.status).toBe(400);
      expect(replay.json.error).toBe('invalid_grant');
      expect((await introspect(first.json.access_token as string)).json).toEqual({ active: false });
      expect((await token({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token as string, client_id: clientA })).json.error).toBe('invalid_grant');
    });
    it('refuses an expired code', async () => {
      const c = await code();
      await sleep(TTL.code * 1000 + 300);
      expect((await exchange(c)).json.error).toBe('invalid_grant');
    });
  });

  describe('refresh_token', () => {
    async function session() {
      const c = await code();
      const t = await exchange(c);
      return { ...c, access: t.json.access_token as string, refresh: t.json.refresh_token as string };
    }
    const refresh = (rt: string, clientId = clientA, extra: Record<string, string> = {}) => token({ grant_type: 'refresh_token', refresh_token: rt, client_id: clientId, ...extra });

    it('rotates both tokens every time and revokes the previous access token', async () => {
      const s = await session();
      const r1 = await refresh(s.refresh);
      expect(r1.status).toBe(200);
      expect(r1.headers.get('cache-control')).toBe('no-store');
      expect(r1.json.refresh_token).toMatch(/^mar_/);
      expect(r1.json.refresh_token).not.toBe(s.refresh);
      expect(r1.json.access_token).not.toBe(s.access);
      expect(r1.json.scope).toBe('openid');
      expect((await introspect(s.access)).json).toEqual({ active: false });
      expect((await introspect(r1.json.access_token as string)).json.active).toBe(true);
      const r2 = await refresh(r1.json.refresh_token as string);
      expect(r2.status).toBe(200);
    });
    it('lets a client retry with the old refresh token while the successor is unused (lost response)', async () => {
      const s = await session();
      const lost = await refresh(s.refresh);
      const retry = await refresh(s.refresh);
      expect(retry.status).toBe(200);
      expect((await refresh(lost.json.refresh_token as string)).json.error).toBe('invalid_grant');
      expect((await introspect(lost.json.access_token as string)).json.active).toBe(false);
      expect((await introspect(retry.json.access_token as string)).json.active).toBe(true);
    });
    it('ends the whole session when a rotated refresh token is replayed after its successor was used', async () => {
      const s = await session();
      const r1 = await refresh(s.refresh);
      expect((await introspect(r1.json.access_token as string)).json.active).toBe(true); // the successor is used
      const replay = await refresh(s.refresh);
      expect(replay.status).toBe(400);
      expect(replay.json.error).toBe('invalid_grant');
      expect(replay.json).not.toHaveProperty('errcode');
      expect((await introspect(r1.json.access_token as string)).json).toEqual({ active: false });
      expect((await refresh(r1.json.refresh_token as string)).json.error).toBe('invalid_grant');
      const rows = await seed.db.manager.findBy(OutboxEntity, { user_key: s.user.localpart, kind: 'devices.sync' });
      expect(rows.length).toBeGreaterThan(0);
    });
    it('refuses a refresh by another client, a widened scope, and unknown or malformed tokens', async () => {
      const s = await session();
      expect((await refresh(s.refresh, clientB)).json.error).toBe('invalid_grant');
      expect((await refresh(s.refresh, clientA, { scope: 'openid urn:synapse:admin:*' })).json.error).toBe('invalid_scope');
      expect((await refresh('mar_notatoken')).json.error).toBe('invalid_grant');
      expect((await refresh(s.access)).json.error).toBe('invalid_grant');
      expect((await refresh(s.refresh, clientA, { scope: 'openid' })).status).toBe(200);
    });
  });

  describe('client_credentials', () => {
    it('grants urn:synapse:admin:* to an allowed static client, without a refresh token', async () => {
      const res = await token({ grant_type: 'client_credentials', scope: 'urn:synapse:admin:*' }, basic('admin-tool', 'admin-tool-secret'));
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ token_type: 'Bearer', scope: 'urn:synapse:admin:*' });
      expect(res.json).not.toHaveProperty('refresh_token');
      const info = await introspect(res.json.access_token as string);
      expect(info.json).toMatchObject({ active: true, scope: 'urn:synapse:admin:*', client_id: 'admin-tool' });
      expect(info.json).not.toHaveProperty('username');
    });
    it('refuses urn:synapse:admin:* to other clients', async () => {
      const res = await token({ grant_type: 'client_credentials', scope: 'urn:synapse:admin:*', client_id: 'reader', client_secret: 'reader-secret' });
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('invalid_scope');
      const pub = await token({ grant_type: 'client_credentials', scope: 'urn:synapse:admin:*', client_id: clientA });
      expect(pub.status).toBe(400);
      expect(pub.json.error).toBe('unauthorized_client');
    });
    it('refuses a wrong secret and a wrong authentication method with 401 invalid_client', async () => {
      for (const [form, headers] of [
        [{ grant_type: 'client_credentials' }, basic('admin-tool', 'wrong')],
        [{ grant_type: 'client_credentials', client_id: 'admin-tool', client_secret: 'admin-tool-secret' }, {}],
        [{ grant_type: 'client_credentials', client_id: 'admin-tool' }, {}],
        [{ grant_type: 'client_credentials' }, basic('nobody', 'x')],
      ] as const) {
        const res = await token({ ...form }, { ...headers });
        expect(res.status).toBe(401);
        expect(res.json.error).toBe('invalid_client');
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      }
    });
  });

  describe('token endpoint hostile input', () => {
    it('answers unknown or missing grant types and repeated parameters in the OAuth shape', async () => {
      expect((await token({ grant_type: 'password', client_id: clientA, username: 'a', password: 'b' })).json.error).toBe('unsupported_grant_type');
      expect((await token({ grant_type: 'implicit', client_id: clientA })).json.error).toBe('unsupported_grant_type');
      expect((await token({ client_id: clientA })).json.error).toBe('invalid_request');
      const dup = await fetch(`${cw.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&grant_type=authorization_code' });
      expect(dup.status).toBe(400);
      expect(await dup.json()).toMatchObject({ error: 'invalid_request' });
    });
    it('refuses a grant the client is not registered for', async () => {
      const res = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x', client_id: noDeviceClient });
      expect(res.json.error).toBe('unauthorized_client');
    });
    it('answers bad JSON, wrong content types and oversized bodies with 4xx, never a 500', async () => {
      const json = await fetch(`${cw.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
      expect(json.status).toBe(400);
      expect(((await json.json()) as Record<string, unknown>).error).toBe('invalid_request');
      const validJson = await fetch(`${cw.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":{"a":1}}' });
      expect(validJson.status).toBe(400);
      const text = await fetch(`${cw.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(text.status).toBe(400);
      const big = await fetch(`${cw.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${'a'.repeat(400 * 1024)}` });
      expect(big.status).toBe(413);
      expect(((await big.json()) as Record<string, unknown>).error).toBe('invalid_request');
      const none = await fetch(`${cw.url}/oauth2/token`, { method: 'POST' });
      expect(none.status).toBe(400);
    });
  });

  describe('introspection', () => {
    async function live() {
      const c = await code();
      const t = await exchange(c);
      return { ...c, access: t.json.access_token as string, refresh: t.json.refresh_token as string };
    }
    it('answers Synapse (Bearer shared secret) with exactly the fields it reads', async () => {
      const s = await live();
      const res = await introspect(s.access);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.json).toMatchObject({ active: true, scope: 'openid', client_id: clientA, username: s.user.localpart, sub: s.user.userId, token_type: 'access_token' });
      for (const f of ['exp', 'iat', 'expires_in']) expect(Number.isInteger(res.json[f])).toBe(true);
      expect(res.json.expires_in).toBeLessThanOrEqual(TTL.access);
      expect(typeof res.json.jti).toBe('string');
    });
    it('answers a static client with introspection: true (client_secret_basic and client_secret_post)', async () => {
      const s = await live();
      expect((await introspect(s.access, basic('legacy-basic', 'legacy-basic-secret'))).json.active).toBe(true);
      expect((await introspect(s.access, {}, { client_id: 'legacy-post', client_secret: 'legacy-post-secret' })).json.active).toBe(true);
    });
    it('refuses a wrong shared secret with 401 access_denied and a bad client with 401 invalid_client', async () => {
      const s = await live();
      const bad = await introspect(s.access, bearer('wrong-secret'));
      expect(bad.status).toBe(401);
      expect(bad.json.error).toBe('access_denied');
      for (const headers of [basic('legacy-basic', 'wrong'), basic('admin-tool', 'admin-tool-secret'), {}]) {
        const res = await introspect(s.access, headers);
        expect(res.status).toBe(401);
        expect(res.json.error).toBe('invalid_client');
      }
      const pub = await introspect(s.access, {}, { client_id: clientA });
      expect(pub.status).toBe(401);
    });
    it('answers 200 {"active": false} for malformed, unknown, revoked, expired, refresh-as-access and locked-user tokens', async () => {
      const s = await live();
      const inactive = async (t: string, extra: Record<string, string> = {}) => {
        const res = await introspect(t, bearer(SHARED_SECRET), extra);
        expect(res.status).toBe(200);
        expect(res.json).toEqual({ active: false });
      };
      await inactive('');
      await inactive('not-a-token');
      await inactive('mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_000000');
      await inactive(`${s.access.slice(0, -1)}x`);
      await inactive('mat_ABCDEFGHIJKLMNOPQRSTUVWXYZabcd_0abcde'.replace(/_[^_]+$/, '_zzzzzz'));
      await inactive(s.refresh);
      await inactive(s.access, { token_type_hint: 'refresh_token' });
      const locked = await live();
      await seed.db.transaction((em) => em.update(UserEntity, { id: locked.user.userId }, { locked_at: Date.now() }));
      await inactive(locked.access);
      const deactivated = await live();
      await seed.db.transaction((em) => em.update(UserEntity, { id: deactivated.user.userId }, { deactivated_at: Date.now() }));
      await inactive(deactivated.access);
      expect((await revoke({ token: s.access, client_id: clientA })).status).toBe(200);
      await inactive(s.access);
      const expiring = await live();
      await sleep(TTL.access * 1000 + 200);
      await inactive(expiring.access);
    });
    it('introspects a refresh token when asked as one', async () => {
      const s = await live();
      const res = await introspect(s.refresh, bearer(SHARED_SECRET), { token_type_hint: 'refresh_token' });
      expect(res.json).toMatchObject({ active: true, token_type: 'refresh_token' });
    });
  });

  describe('revocation', () => {
    async function live() {
      const c = await code();
      const t = await exchange(c);
      return { ...c, access: t.json.access_token as string, refresh: t.json.refresh_token as string };
    }
    it('revokes access and refresh token and the session together; the second parallel revoke still gets 200 {}', async () => {
      const s = await live();
      const [a, b] = await Promise.all([revoke({ token: s.access, token_type_hint: 'access_token', client_id: clientA }), revoke({ token: s.refresh, token_type_hint: 'refresh_token', client_id: clientA })]);
      for (const r of [a, b]) {
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(r.json).toEqual({});
      }
      expect((await introspect(s.access)).json.active).toBe(false);
      expect((await token({ grant_type: 'refresh_token', refresh_token: s.refresh, client_id: clientA })).json.error).toBe('invalid_grant');
    });
    it('revocations arriving together (one group commit) each end their own session exactly once', async () => {
      const sessions = await Promise.all(Array.from({ length: 30 }, () => live()));
      const sessionOf = async (access: string) => (await seed.db.manager.findOneByOrFail(AccessTokenEntity, { token_hash: createHash('sha256').update(access).digest('hex') })).session_id;
      const ids = await Promise.all(sessions.map((s) => sessionOf(s.access)));
      const users = await Promise.all(ids.map(async (id) => (await seed.db.manager.findOneByOrFail(OAuth2SessionEntity, { id })).user_id!));
      const lastOutbox = Number((await seed.db.manager.query('SELECT COALESCE(MAX(id), 0) AS m FROM outbox'))[0].m);
      const responses = await Promise.all([
        ...sessions.map((s) => revoke({ token: s.access, client_id: clientA })),
        // The refresh tokens of the first five, in the same moment: their sessions still end once.
        ...sessions.slice(0, 5).map((s) => revoke({ token: s.refresh, token_type_hint: 'refresh_token' })),
        revoke({ token: 'mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_000000' }),
        revoke({ token: 'garbage' }),
      ]);
      for (const r of responses) expect([r.status, r.json]).toEqual([200, {}]);
      for (const s of sessions) expect((await introspect(s.access)).json.active).toBe(false);
      const ended = await seed.db.manager.findBy(OAuth2SessionEntity, { id: In(ids) });
      expect(ended.every((s) => s.finished_at !== null && s.finish_reason === 'revoked')).toBe(true);
      const audit = await seed.db.manager.findBy(AuditLogEntity, { action: 'oauth2_session.end', target: In(ids) });
      expect(audit.map((a) => a.target).sort()).toEqual([...ids].sort());
      expect(audit.every((a) => (a.details as { reason?: string }).reason === 'revoked')).toBe(true);
      // One devices.sync row per user (each of these users had one session).
      const localparts = (await seed.db.manager.findBy(UserEntity, { id: In(users) })).map((u) => u.localpart);
      const rows = await seed.db.manager.findBy(OutboxEntity, { user_key: In(localparts), kind: 'devices.sync' });
      expect(
        rows
          .filter((r) => r.id > lastOutbox)
          .map((r) => r.user_key)
          .sort(),
      ).toEqual([...localparts].sort());
      for (const s of sessions.slice(0, 5)) expect((await token({ grant_type: 'refresh_token', refresh_token: s.refresh, client_id: clientA })).json.error).toBe('invalid_grant');
    });
    it('finds the token whatever the hint says, and revokes without or with a mismatching client_id', async () => {
      const s1 = await live();
      await revoke({ token: s1.refresh, token_type_hint: 'access_token' });
      expect((await introspect(s1.access)).json.active).toBe(false);
      const s2 = await live();
      await revoke({ token: s2.access, client_id: clientB });
      expect((await introspect(s2.access)).json.active).toBe(false);
    });
    it('answers 200 {} for unknown, malformed and already revoked tokens; 400 without a token; 401 for bad client credentials', async () => {
      for (const t of ['mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_000000', 'garbage', 'mar_x']) {
        const r = await revoke({ token: t });
        expect(r.status).toBe(200);
        expect(r.json).toEqual({});
      }
      const missing = await revoke({ client_id: clientA });
      expect(missing.status).toBe(400);
      expect(missing.json.error).toBe('invalid_request');
      const bad = await revoke({ token: 'x' }, basic('admin-tool', 'wrong'));
      expect(bad.status).toBe(401);
      expect(bad.json.error).toBe('invalid_client');
    });
  });

  describe('userinfo', () => {
    it('answers sub and preferred_username (and name/email when known) to an openid token', async () => {
      const user = await seed.user(undefined, { display_name: 'Alice Example', email: 'alice@example.test' });
      const c = await seed.authorize({ client_id: clientA, redirect_uri: REDIRECT, scope: 'openid' }, user);
      const t = await exchange(c);
      const res = await fetch(`${cw.url}/oauth2/userinfo`, { headers: bearer(t.json.access_token as string) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: user.userId, preferred_username: user.localpart, name: 'Alice Example', email: 'alice@example.test' });
    });
    it('answers 401 invalid_token with WWW-Authenticate for a missing or dead token', async () => {
      const none = await fetch(`${cw.url}/oauth2/userinfo`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const dead = await fetch(`${cw.url}/oauth2/userinfo`, { headers: bearer('mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_000000') });
      expect(dead.status).toBe(401);
      expect(dead.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
    it('answers 403 insufficient_scope to a token without openid', async () => {
      const res = await token({ grant_type: 'client_credentials' }, basic('admin-tool', 'admin-tool-secret'));
      const r = await fetch(`${cw.url}/oauth2/userinfo`, { headers: bearer(res.json.access_token as string) });
      expect(r.status).toBe(403);
      expect(((await r.json()) as Record<string, unknown>).error).toBe('insufficient_scope');
    });
  });

  describe('device authorization (RFC 8628)', () => {
    const start = (clientId: string, scope = 'openid') => postForm(`${cw.url}/oauth2/device`, { client_id: clientId, scope });
    const poll = (deviceCode: string, clientId = clientA) => token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: clientId });

    it('answers 200 with every field, verification_uri_complete included', async () => {
      const res = await start(clientA);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.json).toMatchObject({ verification_uri: `${cw.issuer}link`, expires_in: TTL.device, interval: 1 });
      expect(res.json.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      expect(res.json.verification_uri_complete).toBe(`${cw.issuer}link?code=${res.json.user_code}`);
      expect(typeof res.json.device_code).toBe('string');
    });
    it('refuses a client not registered for the grant (400 unauthorized_client) and a bad scope (400 invalid_scope)', async () => {
      const a = await start(noDeviceClient);
      expect(a.status).toBe(400);
      expect(a.json.error).toBe('unauthorized_client');
      const b = await start(clientA, 'urn:matrix:client:api:* unknown:scope');
      expect(b.status).toBe(400);
      expect(b.json.error).toBe('invalid_scope');
      const c = await start('unknown-client');
      expect(c.status).toBe(401);
      expect(c.json.error).toBe('invalid_client');
    });
    it('polls: authorization_pending, slow_down, then tokens once approved, then invalid_grant', async () => {
      const d = await start(clientA);
      const dc = d.json.device_code as string;
      const p1 = await poll(dc);
      expect(p1.status).toBe(400);
      expect(p1.json.error).toBe('authorization_pending');
      const p2 = await poll(dc);
      expect(p2.status).toBe(400);
      expect(p2.json.error).toBe('slow_down');
      expect((await poll(dc, clientB)).json.error).toBe('invalid_grant');
      const user = await seed.user();
      expect(await seed.devices.find((d.json.user_code as string).toLowerCase())).toMatchObject({ clientId: clientA, scope: ['openid'] });
      await seed.devices.approve(d.json.user_code as string, user, user.session);
      const ok = await poll(dc);
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ token_type: 'Bearer', scope: 'openid' });
      expect(ok.json.refresh_token).toMatch(/^mar_/);
      expect(typeof ok.json.id_token).toBe('string');
      expect((await introspect(ok.json.access_token as string)).json).toMatchObject({ active: true, username: user.localpart });
      expect((await poll(dc)).json.error).toBe('invalid_grant');
    });
    it('answers access_denied when the user refuses and expired_token once expired', async () => {
      const d = await start(clientA);
      await seed.devices.deny(d.json.user_code as string);
      const denied = await poll(d.json.device_code as string);
      expect(denied.status).toBe(400);
      expect(denied.json.error).toBe('access_denied');
      const e = await start(clientA);
      await sleep(TTL.device * 1000 + 200);
      const expired = await poll(e.json.device_code as string);
      expect(expired.status).toBe(400);
      expect(expired.json.error).toBe('expired_token');
    });
  });
});
