import { describe, expect, it } from '@jest/globals';
import { claimsToAttributes } from '../../../../src/upstream/oauth-client/json-attributes.js';

describe('OIDC claims → attributes', () => {
  it('keeps strings, stringifies scalars, lists stay lists, drops JWT bookkeeping', () => {
    expect(
      claimsToAttributes({
        iss: 'https://idp',
        sub: 'u1',
        aud: 'c',
        exp: 1,
        iat: 1,
        nonce: 'n',
        at_hash: 'h',
        sid: 's',
        email_verified: true,
        age: 42,
        groups: ['a', 'b', 3, null, { x: 1 }],
        nothing: null,
      }),
    ).toEqual({ iss: 'https://idp', sub: 'u1', sid: 's', email_verified: 'true', age: '42', groups: ['a', 'b', '3'] });
  });

  it('flattens nested objects with dotted keys (Keycloak realm_access.roles)', () => {
    expect(claimsToAttributes({ realm_access: { roles: ['admin', 'user'] }, address: { country: 'NL', geo: { a: { b: { c: { d: 'too deep' } } } } } })).toEqual({
      'realm_access.roles': ['admin', 'user'],
      'address.country': 'NL',
    });
  });

  it('later sources override earlier ones', () => {
    expect(claimsToAttributes({ name: 'From userinfo', email: 'u@x' }, { name: 'From ID token' })).toEqual({ name: 'From ID token', email: 'u@x' });
  });

  it('keeps a "__proto__" claim as an ordinary key', () => {
    const out = claimsToAttributes(JSON.parse('{"__proto__": {"polluted": "yes"}, "sub": "x"}'));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(out.sub).toBe('x');
  });

  it('bounds the number of attributes and the size of values', () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`c${i}`, 'v']));
    expect(Object.keys(claimsToAttributes(many)).length).toBe(200);
    expect(claimsToAttributes({ big: 'x'.repeat(5000) })).toEqual({});
  });
});
