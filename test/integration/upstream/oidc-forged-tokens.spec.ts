import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../../src/storage/redis.js';
import { RedisKeyValueStore } from '../../../src/storage/kv-store.js';
import { parseOptions } from '../../../src/config/secret-ref.js';
import { oidcProviderSchema } from '../../../src/upstream/oidc/oidc.config.js';
import { OidcConnector } from '../../../src/upstream/oidc/oidc.connector.js';
import { UpstreamError, type CallbackRequest, type UpstreamLoginContext } from '../../../src/upstream/connector.js';
import { startFakeIdp, type FakeIdp } from '../../support/fake-oidc-idp.js';
import { english } from '../../support/i18n.js';

/**
 * ID tokens no real IdP would issue, served by a fake IdP (discovery, JWKS, token endpoint) so the
 * connector's checks can be seen to refuse each one. One test per attack.
 */

const CLIENT = 'causeway-test';
const CALLBACK = 'http://127.0.0.1:9/upstream/fake/callback';
let idp: FakeIdp;
let redis: Redis;
let conn: OidcConnector;
const RUN = randomBytes(4).toString('hex');

beforeAll(async () => {
  idp = await startFakeIdp();
  redis = connectRedis('redis://127.0.0.1:6379', 'oidc-forged-test');
  parseOptions.devMode = true;
  try {
    const config = oidcProviderSchema.parse({
      id: 'fake',
      name: 'Fake IdP',
      kind: 'oidc',
      issuer: idp.issuer,
      client_id: CLIENT,
      client_secret: 'fake-secret',
      allow_insecure_http: true,
      fetch_userinfo: false,
    });
    conn = new OidcConnector(config, { publicBase: 'http://127.0.0.1:9/', kv: new RedisKeyValueStore(redis, `test:${RUN}:`), logger: pino({ level: 'silent' }) });
  } finally {
    parseOptions.devMode = false;
  }
});

afterAll(async () => {
  await idp.close();
  await redis.quit();
});

const now = () => Math.floor(Date.now() / 1000);

/** Begins a login, lets the fake token endpoint answer with `idToken(nonce)`, completes the callback. */
async function attempt(idToken: (nonce: string) => Promise<string> | string, callback: (state: string) => Record<string, string> = (state) => ({ code: 'c1', state, iss: idp.issuer })) {
  const login: UpstreamLoginContext = { loginId: 'l', state: `s-${randomBytes(6).toString('hex')}`, callbackUrl: CALLBACK, prompt: [] };
  const begun = await conn.begin(login);
  const nonce = begun.saved.nonce as string;
  idp.onToken = async () => ({ body: { access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: await idToken(nonce) } });
  const req: CallbackRequest = { method: 'GET', url: CALLBACK, query: callback(login.state), body: {}, ip: '127.0.0.1' };
  try {
    const a = await conn.complete(req, begun.saved, login);
    return { kind: 'accepted', assertion: a };
  } catch (e) {
    if (!(e instanceof UpstreamError)) throw e;
    expect(e.status).toBeLessThan(500);
    expect(english(e.userMessage)).not.toMatch(/eyJ|fake-secret/);
    return { kind: e.kind, error: e };
  }
}

function claims(nonce: string, over: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = { iss: idp.issuer, aud: CLIENT, sub: 'mallory', iat: now(), exp: now() + 300, nonce, sid: 'fake-sid' };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

describe('forged ID tokens are refused', () => {
  it('sanity: a correct token from the fake IdP is accepted (the fake is faithful)', async () => {
    const r = await attempt((n) => idp.sign(claims(n)));
    expect(r.kind).toBe('accepted');
    expect(r.assertion!.subject).toBe('mallory');
    expect(r.assertion!.upstreamSid).toBe('fake-sid');
  });

  it('signed by a key the IdP does not publish (same kid)', async () => {
    expect((await attempt((n) => idp.sign(claims(n), { key: idp.otherKey }))).kind).toBe('signature_invalid');
  });

  it('signed with an unknown kid', async () => {
    expect((await attempt((n) => idp.sign(claims(n), { kid: 'not-published' }))).kind).toBe('signature_invalid');
  });

  it('alg: none (unsigned), although the IdP metadata lists none', async () => {
    expect((await attempt((n) => idp.unsigned(claims(n)))).kind).toBe('signature_invalid');
  });

  it('HS256 with the client secret as key (algorithm confusion)', async () => {
    expect((await attempt((n) => new SignJWT(claims(n)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('fake-secret')))).kind).toBe('signature_invalid');
  });

  it('another issuer', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { iss: 'https://evil.example.com' })))).kind).toBe('issuer_mismatch');
  });

  it('another audience', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { aud: 'another-client' })))).kind).toBe('audience_mismatch');
  });

  it('several audiences and no azp', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { aud: [CLIENT, 'another-client'] })))).kind).toBe('audience_mismatch');
  });

  it('expired', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { iat: now() - 3600, exp: now() - 600 })))).kind).toBe('expired');
  });

  it('not valid yet (nbf in the future)', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { nbf: now() + 3600 })))).kind).toBe('not_yet_valid');
  });

  it('the nonce of another login', async () => {
    expect((await attempt(() => idp.sign(claims('some-other-nonce')))).kind).toBe('nonce_mismatch');
  });

  it('no nonce at all', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { nonce: undefined })))).kind).toBe('nonce_mismatch');
  });

  it('no sub', async () => {
    expect((await attempt((n) => idp.sign(claims(n, { sub: undefined })))).kind).toBe('malformed');
  });

  it('not a JWT', async () => {
    expect((await attempt(() => 'not-a-jwt')).kind).toBe('malformed');
  });

  it('IdP mix-up: the callback carries another IdP’s iss', async () => {
    expect(
      (
        await attempt(
          (n) => idp.sign(claims(n)),
          (state) => ({ code: 'c1', state, iss: 'http://127.0.0.1:1' }),
        )
      ).kind,
    ).toBe('issuer_mismatch');
  });

  it('IdP mix-up: the iss is left out although the IdP announces it (RFC 9207)', async () => {
    expect(
      (
        await attempt(
          (n) => idp.sign(claims(n)),
          (state) => ({ code: 'c1', state }),
        )
      ).kind,
    ).toBe('issuer_mismatch');
  });

  it('the token endpoint fails (500): unavailable, 503', async () => {
    const login: UpstreamLoginContext = { loginId: 'l', state: 's-500', callbackUrl: CALLBACK, prompt: [] };
    const begun = await conn.begin(login);
    idp.onToken = () => ({ status: 500, body: { oops: true } });
    const err = await conn.complete({ method: 'GET', url: CALLBACK, query: { code: 'c', state: 's-500', iss: idp.issuer }, body: {}, ip: '' }, begun.saved, login).catch((e: UpstreamError) => e);
    expect((err as UpstreamError).kind).toBe('upstream_unavailable');
    expect((err as UpstreamError).status).toBe(503);
  });
});
