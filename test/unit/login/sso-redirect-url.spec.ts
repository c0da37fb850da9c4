import { describe, expect, it } from '@jest/globals';
import { checkRedirectUrl, MAX_REDIRECT_URL_LENGTH, redirectTarget, withLoginToken } from '../../../src/login/sso-redirect-url.js';

describe('checkRedirectUrl', () => {
  it.each([
    'https://app.element.io/',
    'https://app.element.io/#/login',
    'http://localhost:8080/?no_universal_links=true#/login',
    'https://app.example/sso?state=1&x=%20y',
    'element://vector/webapp/',
    'io.element.android:/sso',
    'im.fluffychat://login',
    'https://[::1]:8448/cb',
  ])('accepts %s', (url) => {
    expect(checkRedirectUrl(url)).toMatchObject({ ok: true });
  });
  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['/relative/path', 'not_absolute'],
    ['app.element.io', 'not_absolute'],
    ['https://', 'not_absolute'],
    ['http://user@app.example/', 'userinfo'],
    ['https://user:pass@app.example/', 'userinfo'],
    ['https://:pass@app.example/', 'userinfo'],
    ['element://user@vector/webapp/', 'userinfo'],
    ['javascript:alert(document.cookie)', 'unsafe_scheme'],
    ['JavaScript:alert(1)', 'unsafe_scheme'],
    ['data:text/html,<script>alert(1)</script>', 'unsafe_scheme'],
    ['file:///etc/passwd', 'unsafe_scheme'],
    [`https://app.example/${'a'.repeat(MAX_REDIRECT_URL_LENGTH)}`, 'too_long'],
  ])('refuses %j (%s)', (url, reason) => {
    expect(checkRedirectUrl(url as string | undefined)).toEqual({ ok: false, reason });
  });
});

describe('withLoginToken', () => {
  it('appends loginToken after the URL’s own query, which is kept byte for byte, before the fragment', () => {
    expect(withLoginToken('https://app.example/cb?a=b%20c&x=~&y=%7E#/login', 'TOKEN')).toBe('https://app.example/cb?a=b%20c&x=~&y=%7E&loginToken=TOKEN#/login');
    expect(withLoginToken('https://app.example/', 'TOKEN')).toBe('https://app.example/?loginToken=TOKEN');
    expect(withLoginToken('https://app.example/?', 'TOKEN')).toBe('https://app.example/?loginToken=TOKEN');
    expect(withLoginToken('element://vector/webapp/', 'TOKEN')).toBe('element://vector/webapp/?loginToken=TOKEN');
    expect(withLoginToken('io.element.android:/sso', 'TOKEN')).toBe('io.element.android:/sso?loginToken=TOKEN');
  });
  it('keeps a loginToken the URL already had (the new one comes last)', () => {
    expect(withLoginToken('https://app.example/?loginToken=old', 'new')).toBe('https://app.example/?loginToken=old&loginToken=new');
  });
});

describe('redirectTarget (what the confirmation page names)', () => {
  it.each([
    ['https://app.element.io/#/login', 'app.element.io'],
    ['http://localhost:8080/', 'localhost:8080'],
    ['element://vector/webapp/', 'element://vector'],
    ['io.element.android:/sso', 'io.element.android:'],
  ])('%s → %s', (url, target) => {
    expect(redirectTarget(url)).toBe(target);
  });
});
