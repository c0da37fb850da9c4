import { describe, expect, it } from '@jest/globals';
import { checkRedirectUri, redirectUriMatches } from '../../../src/oauth2/clients/redirect-uri.rules.js';
import { validateRegistration } from '../../../src/oauth2/registration/client-metadata.js';
import { parseScope } from '../../../src/oauth2/scopes/scope.js';
import { parseLoginRequest } from '../../../src/compat/login-request.js';
import { MatrixError } from '../../../src/matrix/matrix-error.js';
import { claimsToAttributes } from '../../../src/upstream/oauth-client/json-attributes.js';

/**
 * Issue 13, "informational" findings about identifiers and attacker-sized input, each at the pure
 * function that decides it: redirect URIs compared as raw strings but parsed with WHATWG URL,
 * loopback ports out of range, device ids with control characters or dot segments, and OIDC claims
 * big enough to put hundreds of MB into a login snapshot.
 */
const strict = { allowInsecure: false };
const clientUri = new URL('https://client.example/');

describe('redirect URIs: one canonical form, no parser differentials', () => {
  it('refuses a backslash at registration (browsers read it as "/", RFC 3986 parsers as userinfo)', () => {
    expect(checkRedirectUri('https://client.example\\@evil.example/cb', 'web', clientUri, strict)).toMatch(/backslash/);
    expect(() =>
      validateRegistration(
        { client_uri: 'https://client.example/', redirect_uris: ['https://client.example\\@evil.example/cb'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' },
        strict,
      ),
    ).toThrow(/backslash/);
  });

  it('stores what it registers in canonical form', () => {
    const out = validateRegistration(
      { client_uri: 'https://client.example/', redirect_uris: ['https://CLIENT.example:443/cb'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' },
      strict,
    );
    expect(out.redirect_uris).toEqual(['https://client.example/cb']);
  });

  it('never matches a backslash variant or a loopback port out of range', () => {
    expect(redirectUriMatches('https://client.example/@evil.example/cb', 'https://client.example\\@evil.example/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:0/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:99999/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:65535/cb')).toBe(true);
  });
});

describe('device ids: the OAuth device id grammar everywhere', () => {
  const hostile = ['A\u0000B', 'A\nB', 'A\u202EB', '..', '.', 'A B', 'A"B', 'A\\B', 'é'];
  it.each(hostile)('refuses %j in a scope', (id) => {
    expect(() => parseScope(`urn:matrix:client:api:* urn:matrix:client:device:${id}`)).toThrow();
  });
  it.each(hostile)('refuses %j as a compat device_id, before the login token is used', (id) => {
    expect(() => parseLoginRequest({ type: 'm.login.token', token: 't', device_id: id })).toThrow(MatrixError);
  });
  it('still takes the ids clients make', () => {
    for (const id of ['ABCDEFGHIJ', 'Yp7FM44zJN', 'dev+1/x', 'a.b', 'D'.repeat(255)]) {
      expect(parseScope(`urn:matrix:client:api:* urn:matrix:client:device:${id}`).deviceId).toBe(id);
      expect(parseLoginRequest({ type: 'm.login.token', token: 't', device_id: id })).toMatchObject({ deviceId: id });
    }
  });
});

describe('OIDC claims: a bounded login snapshot', () => {
  it('keeps all names and values under 256 KiB however much the IdP sends', () => {
    const value = 'v'.repeat(4096);
    const claims = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`claim${i}`, Array.from({ length: 500 }, () => value)]));
    const attrs = claimsToAttributes(claims, { sub: 'alice', email: 'alice@example.com' });
    const size = Object.entries(attrs).reduce((n, [k, v]) => n + k.length + (Array.isArray(v) ? v.join('').length : v.length), 0);
    expect(size).toBeLessThanOrEqual(256 * 1024);
    expect(attrs.sub).toBe('alice');
  });
});
