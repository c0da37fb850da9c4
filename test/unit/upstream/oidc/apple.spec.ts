import { describe, expect, it } from '@jest/globals';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { AppleClientSecret, appleClientAuth } from '../../../../src/upstream/oidc/apple/apple-client-secret.js';
import { appleSchema } from '../../../../src/upstream/oidc/apple/apple.config.js';
import { appleUserAttributes } from '../../../../src/upstream/oidc/apple/apple-user.js';
import { oidcProviderSchema } from '../../../../src/upstream/oidc/oidc.config.js';
import { parseOptions } from '../../../../src/config/secret-ref.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const P8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
process.env.APPLE_P8_TEST = P8;
const config = (over: Record<string, unknown> = {}) => appleSchema.parse({ team_id: 'ABCDE12345', key_id: 'KEY1234567', private_key_env: 'APPLE_P8_TEST', ...over });

describe('Sign in with Apple: the client secret', () => {
  it('is an ES256 JWT with Apple’s header and claims that verifies with the .p8’s public key', async () => {
    const t0 = 1_800_000_000;
    const jwt = await new AppleClientSecret(config(), 'com.example.web', () => t0).current();
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'KEY1234567' });
    const { payload } = await jwtVerify(jwt, createPublicKey(P8), { algorithms: ['ES256'], currentDate: new Date(t0 * 1000) });
    expect(payload).toEqual({ iss: 'ABCDE12345', iat: t0, exp: t0 + 86_400, aud: 'https://appleid.apple.com', sub: 'com.example.web' });
  });

  it('is reused for half its lifetime, then a new one is signed (before the old one expires)', async () => {
    let now = 1_800_000_000;
    const secret = new AppleClientSecret(config({ client_secret_ttl: 3600 }), 'com.example.web', () => now);
    const first = await secret.current();
    now += 1799;
    expect(await secret.current()).toBe(first);
    now += 1;
    const second = await secret.current();
    expect(second).not.toBe(first);
    const { payload } = await jwtVerify(second, createPublicKey(P8), { currentDate: new Date(now * 1000) });
    expect(payload).toMatchObject({ iat: now, exp: now + 3600 });
    // A clock that went back does not keep a secret "from the future".
    now -= 3600;
    expect(await secret.current()).not.toBe(second);
  });

  it('goes to the token endpoint as client_secret_post', async () => {
    const body = new URLSearchParams();
    // The ClientAuth is async (oauth4webapi awaits it), though openid-client types it as returning void.
    await (appleClientAuth(new AppleClientSecret(config(), 'com.example.web'))({ issuer: 'https://appleid.apple.com' }, { client_id: 'com.example.web' }, body, new Headers()) as unknown as Promise<void>);
    expect(body.get('client_id')).toBe('com.example.web');
    expect(decodeProtectedHeader(body.get('client_secret')!).alg).toBe('ES256');
  });

  it('config: a lifetime over Apple’s six months, a key that is not P-256, malformed ids are refused', () => {
    expect(appleSchema.safeParse({ team_id: 'ABCDE12345', key_id: 'KEY1234567', private_key_env: 'APPLE_P8_TEST', client_secret_ttl: 15_777_001 }).success).toBe(false);
    process.env.APPLE_RSA_TEST = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(appleSchema.safeParse({ team_id: 'ABCDE12345', key_id: 'KEY1234567', private_key_env: 'APPLE_RSA_TEST' }).success).toBe(false);
    expect(appleSchema.safeParse({ team_id: 'abc', key_id: 'KEY1234567', private_key_env: 'APPLE_P8_TEST' }).success).toBe(false);
  });

  it('config: with apple, form_post is required, no client_secret, and the method is client_secret_post', () => {
    parseOptions.devMode = true;
    try {
      const base = {
        id: 'apple',
        name: 'Apple',
        kind: 'oidc',
        issuer: 'https://appleid.apple.com',
        client_id: 'com.example.web',
        scopes: ['openid', 'name', 'email'],
        apple: { team_id: 'ABCDE12345', key_id: 'KEY1234567', private_key_env: 'APPLE_P8_TEST' },
      };
      const ok = oidcProviderSchema.parse({ ...base, response_mode: 'form_post' });
      expect(ok.token_endpoint_auth_method).toBe('client_secret_post');
      expect(ok.client_secret).toBeUndefined();
      expect(oidcProviderSchema.safeParse(base).error?.issues.map((i) => i.path.join('.'))).toEqual(['response_mode']);
      expect(oidcProviderSchema.safeParse({ ...base, response_mode: 'form_post', client_secret: 'x' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['client_secret']);
      expect(oidcProviderSchema.safeParse({ ...base, response_mode: 'form_post', token_endpoint_auth_method: 'private_key_jwt', private_key_kid: 'k', private_key_env: 'APPLE_P8_TEST' }).success).toBe(false);
    } finally {
      parseOptions.devMode = false;
    }
  });
});

describe('Sign in with Apple: the `user` field of the first callback', () => {
  it('gives the name as attributes', () => {
    expect(appleUserAttributes('{"name":{"firstName":"John","lastName":"Appleseed"},"email":"john@privaterelay.appleid.com"}')).toEqual({ name: 'John Appleseed', given_name: 'John', family_name: 'Appleseed' });
    expect(appleUserAttributes('{"name":{"firstName":"Ada"}}')).toEqual({ name: 'Ada', given_name: 'Ada' });
  });
  it('ignores what is not Apple’s shape', () => {
    for (const bad of [
      undefined,
      '',
      'not json',
      '[]',
      '{"name":"John"}',
      '{"name":{"firstName":42}}',
      '{"email":"a@b"}',
      `{"name":{"firstName":"${'x'.repeat(300)}"}}`,
      `{"name":{"firstName":"J"},"pad":"${'x'.repeat(5000)}"}`,
    ]) {
      expect([bad, appleUserAttributes(bad)]).toEqual([bad, undefined]);
    }
  });
});
