import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { isValidCodeChallenge, verifyPkce } from '../../../src/oauth2/authorize/pkce.js';
import { errorRedirectUrl, successRedirect } from '../../../src/oauth2/authorize/redirect-response.js';
import { InvalidScopeError } from '../../../src/oauth2/errors.js';
import { formatUserCode, generateUserCode, normalizeUserCode } from '../../../src/oauth2/device/user-code.js';

const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const challenge = createHash('sha256').update(verifier).digest('base64url');

describe('PKCE (RFC 7636, S256 only)', () => {
  it('verifies the RFC 7636 appendix B vector', () => {
    expect(challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(verifyPkce(verifier, challenge)).toBe(true);
  });
  it('refuses a wrong verifier, a plain challenge and malformed values', () => {
    expect(verifyPkce(`${verifier}x`, challenge)).toBe(false);
    expect(verifyPkce(verifier, verifier)).toBe(false);
    expect(verifyPkce('short', challenge)).toBe(false);
    expect(verifyPkce('a'.repeat(129), challenge)).toBe(false);
    expect(isValidCodeChallenge(challenge)).toBe(true);
    expect(isValidCodeChallenge(`${challenge}=`)).toBe(false);
    expect(isValidCodeChallenge('plain-value')).toBe(false);
  });
});

describe('redirects back to the client', () => {
  it('keeps the redirect URI query and ends query mode with #', () => {
    expect(successRedirect('https://app.example.com/?no_universal_links=true', 'query', 'CODE', 'st')).toBe('https://app.example.com/?no_universal_links=true&state=st&code=CODE#');
    expect(successRedirect('https://app.example.com/cb', 'query', 'CODE')).toBe('https://app.example.com/cb?code=CODE#');
  });
  it('puts everything in the fragment in fragment mode', () => {
    expect(successRedirect('https://app.example.com/?no_universal_links=true', 'fragment', 'CODE', 'st')).toBe('https://app.example.com/?no_universal_links=true#state=st&code=CODE');
  });
  it('carries error, description and state (verbatim, any alphabet)', () => {
    const state = 'abc:element-desktop-ssoid:x y&z';
    const url = errorRedirectUrl('io.element.desktop:/vector/webapp/', 'query', new InvalidScopeError('bad scope'), state);
    expect(url.endsWith('#')).toBe(true);
    const q = new URLSearchParams(url.slice(url.indexOf('?') + 1, -1));
    expect(Object.fromEntries(q)).toEqual({ error: 'invalid_scope', error_description: 'bad scope', state });
    const frag = errorRedirectUrl('https://a.example/cb', 'fragment', new InvalidScopeError(), 's');
    expect(frag).toBe('https://a.example/cb#error=invalid_scope&state=s');
  });
});

describe('device user codes', () => {
  it('are 8 unambiguous characters shown as XXXX-XXXX and typed loosely', () => {
    const c = generateUserCode();
    expect(c).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
    expect(formatUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
    expect(normalizeUserCode('bcdf-ghjk')).toBe('BCDFGHJK');
    expect(normalizeUserCode(' BCDF GHJK ')).toBe('BCDFGHJK');
    expect(normalizeUserCode('BCDF-GHJ0')).toBeUndefined();
    expect(normalizeUserCode('AEIOUAEI')).toBeUndefined();
  });
});
