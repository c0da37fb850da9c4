import { beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutTokenError, verifyLogoutToken } from '../../../../src/upstream/oidc/logout-token.js';

const ISSUER = 'https://idp.example.com';
const CLIENT = 'causeway';
let idpKey: CryptoKey;
let otherKey: CryptoKey;
let keys: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  const idp = await generateKeyPair('RS256');
  idpKey = idp.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
});

const now = () => Math.floor(Date.now() / 1000);
function claims(over: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = { iss: ISSUER, aud: CLIENT, iat: now(), jti: `j-${Math.random()}`, sid: 'sid-1', sub: 'alice', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}
async function sign(payload: JWTPayload, opts: { key?: CryptoKey; typ?: string | null; kid?: string } = {}) {
  const header: Record<string, unknown> = { alg: 'RS256', kid: opts.kid ?? 'k1' };
  if (opts.typ !== null) header.typ = opts.typ ?? 'logout+jwt';
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(opts.key ?? idpKey);
}
const verify = (token: string) => verifyLogoutToken(token, { issuer: ISSUER, clientId: CLIENT, keys, clockSkewSeconds: 30 });
async function reason(token: string | Promise<string>) {
  try {
    await verify(await token);
  } catch (e) {
    expect(e).toBeInstanceOf(LogoutTokenError);
    return (e as LogoutTokenError).reason;
  }
  return 'accepted';
}

describe('logout token validation (OIDC Back-Channel Logout 1.0 §2.6)', () => {
  it('accepts a well-formed token and returns sid, sub, jti', async () => {
    const t = await verify(await sign(claims({ jti: 'abc' })));
    expect(t).toMatchObject({ sid: 'sid-1', sub: 'alice', jti: 'abc' });
  });

  it('accepts sid only, sub only, no typ, application/logout+jwt, aud as a list', async () => {
    expect(await reason(sign(claims({ sub: undefined })))).toBe('accepted');
    expect(await reason(sign(claims({ sid: undefined })))).toBe('accepted');
    expect(await reason(sign(claims(), { typ: null }))).toBe('accepted');
    expect(await reason(sign(claims(), { typ: 'application/logout+jwt' }))).toBe('accepted');
    expect(await reason(sign(claims({ aud: ['other', CLIENT] })))).toBe('accepted');
  });

  it.each([
    ['a nonce', { nonce: 'n' }, 'nonce_present'],
    ['no events', { events: undefined }, 'malformed'],
    ['events without the back-channel logout member', { events: { 'http://schemas.openid.net/event/other': {} } }, 'bad_events'],
    ['the event as a string, not an object', { events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }, 'bad_events'],
    ['events as a list', { events: [BACKCHANNEL_LOGOUT_EVENT] }, 'bad_events'],
    ['neither sid nor sub', { sid: undefined, sub: undefined }, 'no_subject'],
    ['a non-string sid', { sid: 42 }, 'malformed'],
    ['no jti', { jti: undefined }, 'malformed'],
    ['another issuer', { iss: 'https://evil.example.com' }, 'issuer_mismatch'],
    ['another audience', { aud: 'someone-else' }, 'audience_mismatch'],
    ['no iat', { iat: undefined }, 'malformed'],
    ['an iat 10 minutes old', { iat: now() - 600 }, 'expired'],
    ['an iat in the future', { iat: now() + 600 }, 'expired'],
    ['an exp in the past', { exp: now() - 120 }, 'expired'],
  ])('refuses a token with %s', async (_name, over, expected) => {
    expect(await reason(sign(claims(over)))).toBe(expected);
  });

  it('refuses a token signed by a key that is not the IdP’s (same kid)', async () => {
    expect(await reason(sign(claims(), { key: otherKey }))).toBe('signature_invalid');
  });

  it('refuses a token with an unknown kid', async () => {
    expect(await reason(sign(claims(), { kid: 'nope' }))).toBe('signature_invalid');
  });

  it('refuses alg none', async () => {
    const unsecured = new UnsecuredJWT(claims()).encode();
    expect(await reason(unsecured)).toBe('signature_invalid');
  });

  it('refuses HMAC (a symmetric key could be anyone’s)', async () => {
    const t = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await reason(t)).toBe('signature_invalid');
  });

  it('refuses another typ', async () => {
    expect(await reason(sign(claims(), { typ: 'JWT' }))).toBe('bad_typ');
  });

  it.each([
    ['garbage', 'not-a-jwt'],
    ['two parts', 'a.b'],
    ['a JWE-shaped string', 'a.b.c.d.e'],
  ])('refuses %s', async (_n, token) => {
    expect(await reason(token)).toBe('malformed');
  });
});
