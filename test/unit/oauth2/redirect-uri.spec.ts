import { describe, expect, it } from '@jest/globals';
import { checkClientRelatedUri, checkClientUri, checkRedirectUri, isPublicSuffix, redirectUriMatches } from '../../../src/oauth2/clients/redirect-uri.rules.js';

const strict = { allowInsecure: false };
const dev = { allowInsecure: true };
const example = new URL('https://example.com/');

describe('client_uri', () => {
  it('must be https, without credentials, not a public suffix', () => {
    expect(checkClientUri('https://example.com', strict)).toBeUndefined();
    expect(checkClientUri('https://app.example.co.uk/', strict)).toBeUndefined();
    expect(checkClientUri('http://example.com', strict)).toMatch(/https/);
    expect(checkClientUri('https://user:pw@example.com', strict)).toMatch(/user/);
    expect(checkClientUri('https://co.uk/', strict)).toMatch(/public suffix/);
    expect(checkClientUri('https://github.io/', strict)).toMatch(/public suffix/);
    expect(checkClientUri('https://someone.github.io/', strict)).toBeUndefined();
    expect(checkClientUri('not a url', strict)).toMatch(/absolute/);
  });
  it('allows http on loopback only with allow_insecure_uris', () => {
    expect(checkClientUri('http://localhost:8080', strict)).toBeDefined();
    expect(checkClientUri('http://localhost:8080', dev)).toBeUndefined();
    expect(checkClientUri('http://example.com', dev)).toMatch(/https/);
  });
  it('knows public suffixes', () => {
    expect(isPublicSuffix('com')).toBe(true);
    expect(isPublicSuffix('example.com')).toBe(false);
    expect(isPublicSuffix('127.0.0.1')).toBe(false);
  });
});

describe('logo/tos/policy URIs', () => {
  it('must be on the client_uri host or a subdomain; port/path/query may differ', () => {
    expect(checkClientRelatedUri('https://example.com:8443/logo.png?x=1', example, strict)).toBeUndefined();
    expect(checkClientRelatedUri('https://cdn.example.com/logo.png', example, strict)).toBeUndefined();
    expect(checkClientRelatedUri('https://evil.com/logo.png', example, strict)).toMatch(/host/);
    expect(checkClientRelatedUri('https://notexample.com/logo.png', example, strict)).toMatch(/host/);
    expect(checkClientRelatedUri('http://example.com/logo.png', example, strict)).toMatch(/https/);
  });
});

describe('redirect URIs at registration', () => {
  it('web: https on the client host, query allowed, no fragment, no loopback', () => {
    expect(checkRedirectUri('https://example.com/?no_universal_links=true', 'web', example, strict)).toBeUndefined();
    expect(checkRedirectUri('https://app.example.com/cb', 'web', example, strict)).toBeUndefined();
    expect(checkRedirectUri('http://example.com/callback', 'web', example, strict)).toMatch(/https/);
    expect(checkRedirectUri('https://example.com/cb#frag', 'web', example, strict)).toMatch(/fragment/);
    expect(checkRedirectUri('https://other.com/cb', 'web', example, strict)).toMatch(/host/);
    expect(checkRedirectUri('http://localhost/', 'web', example, strict)).toBeDefined();
    expect(checkRedirectUri('/relative', 'web', example, strict)).toMatch(/absolute/);
    expect(checkRedirectUri('https://u:p@example.com/cb', 'web', example, strict)).toMatch(/user/);
  });
  it('web on http loopback with allow_insecure_uris (Element Web on localhost)', () => {
    const local = new URL('http://localhost:8080');
    expect(checkRedirectUri('http://localhost:8080/?no_universal_links=true', 'web', local, dev)).toBeUndefined();
    expect(checkRedirectUri('http://localhost:8080/', 'web', local, strict)).toBeDefined();
  });
  it('native private-use schemes: reversed client host, no authority', () => {
    expect(checkRedirectUri('com.example:/callback', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('com.example.app:/callback', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('com.example.app:callback', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('io.element:/callback', 'native', new URL('https://element.io'), strict)).toBeUndefined();
    expect(checkRedirectUri('example:/callback', 'native', example, strict)).toMatch(/com\.example/);
    expect(checkRedirectUri('com.examplex:/callback', 'native', example, strict)).toBeDefined();
    expect(checkRedirectUri('com.example.app://callback', 'native', example, strict)).toMatch(/authority/);
  });
  it('native loopback: http, localhost/127.0.0.1/[::1], no port', () => {
    expect(checkRedirectUri('http://localhost/callback', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('http://127.0.0.1/callback', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('http://[::1]/callback', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('http://localhost:1234/callback', 'native', example, strict)).toMatch(/port/);
    expect(checkRedirectUri('http://localhost:/callback', 'native', example, strict)).toMatch(/port/);
    expect(checkRedirectUri('https://localhost/callback', 'native', example, strict)).toBeDefined();
    expect(checkRedirectUri('http://example.com/callback', 'native', example, strict)).toMatch(/loopback/);
  });
  it('native claimed https follows the web rules', () => {
    expect(checkRedirectUri('https://example.com/app', 'native', example, strict)).toBeUndefined();
    expect(checkRedirectUri('https://evil.com/app', 'native', example, strict)).toMatch(/host/);
  });
});

describe('redirect URI match at /authorize', () => {
  it('compares canonical forms (as browsers read them), nothing looser', () => {
    expect(redirectUriMatches('https://example.com/cb', 'https://example.com/cb')).toBe(true);
    expect(redirectUriMatches('https://example.com/cb', 'https://example.com/cb/')).toBe(false);
    expect(redirectUriMatches('https://example.com/cb/', 'https://example.com/cb')).toBe(false);
    expect(redirectUriMatches('https://example.com/?a=1', 'https://example.com/?a=1&b=2')).toBe(false);
    // The same URL to every browser: host case and the default port are not differences.
    expect(redirectUriMatches('https://example.com/cb', 'https://EXAMPLE.com/cb')).toBe(true);
    expect(redirectUriMatches('https://example.com/cb', 'https://example.com:443/cb')).toBe(true);
  });
  it('lets a port-less loopback URI match any port, nothing else', () => {
    expect(redirectUriMatches('http://localhost/callback', 'http://localhost:53122/callback')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:8/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]/cb', 'http://[::1]:9000/cb')).toBe(true);
    expect(redirectUriMatches('http://localhost/callback', 'http://localhost:53122/callback/')).toBe(false);
    expect(redirectUriMatches('http://localhost/callback', 'http://127.0.0.1:53122/callback')).toBe(false);
    expect(redirectUriMatches('http://localhost:1000/callback', 'http://localhost:2000/callback')).toBe(false);
  });
});
