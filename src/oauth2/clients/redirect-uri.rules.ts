import { parse as parseDomain } from 'tldts';

/**
 * Redirect URI and client URI rules of dynamic client registration (MSC2966, SPEC §Redirect URI
 * validation; docs/contracts/matrix-clients.md §2.2) and the /authorize match (§3.1). Pure.
 * Each check returns an error message, or undefined when the URI is acceptable.
 */

export type ApplicationType = 'web' | 'native';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

export function parseAbsoluteUrl(raw: string): URL | undefined {
  try {
    const u = new URL(raw);
    return u.protocol.length > 1 ? u : undefined;
  } catch {
    return undefined;
  }
}

/** `host` is `base` or one of its subdomains. */
export function isSameOrSubdomain(host: string, base: string): boolean {
  return host === base || host.endsWith(`.${base}`);
}

/** A registrable host: not a public suffix (`co.uk`, `github.io` — private suffixes count). */
export function isPublicSuffix(hostname: string): boolean {
  const p = parseDomain(hostname, { allowPrivateDomains: true });
  if (p.isIp) return false;
  return p.domain === null;
}

export interface UriPolicy {
  /** Dev/test switch (policy.allow_insecure_uris): http on loopback hosts for client and web redirect URIs. */
  allowInsecure: boolean;
}

/** An https URI with no credentials (http on loopback when insecure URIs are allowed). */
function checkWebUrl(u: URL, policy: UriPolicy): string | undefined {
  if (u.username || u.password) return 'must not contain user:password@';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && policy.allowInsecure && isLoopbackHost(u.hostname)) return undefined;
  return 'must use https';
}

/** `client_uri` (and its localized variants): https, no userinfo, not a public suffix. */
export function checkClientUri(raw: string, policy: UriPolicy): string | undefined {
  const u = parseAbsoluteUrl(raw);
  if (!u) return 'must be an absolute URL';
  const bad = checkWebUrl(u, policy);
  if (bad) return bad;
  if (isLoopbackHost(u.hostname)) return policy.allowInsecure ? undefined : 'must not be a loopback address';
  if (isPublicSuffix(u.hostname)) return 'must not be a public suffix';
  return undefined;
}

/** `logo_uri`, `tos_uri`, `policy_uri`: like client_uri and on its host or a subdomain (port, path, query may differ). */
export function checkClientRelatedUri(raw: string, clientUri: URL, policy: UriPolicy): string | undefined {
  const u = parseAbsoluteUrl(raw);
  if (!u) return 'must be an absolute URL';
  const bad = checkWebUrl(u, policy);
  if (bad) return bad;
  if (!isSameOrSubdomain(u.hostname, clientUri.hostname)) return "must be on the client_uri's host or a subdomain of it";
  return undefined;
}

/** `com.example` for https://example.com/ — the prefix a native app's private-use scheme must start with. */
export function reversedHost(hostname: string): string {
  return hostname.split('.').reverse().join('.');
}

/** One registered redirect URI (contract §2.2 rows "any", "web", "native"). */
export function checkRedirectUri(raw: string, type: ApplicationType, clientUri: URL, policy: UriPolicy): string | undefined {
  if (raw.includes('#')) return 'must not contain a fragment';
  if (raw.includes('\\')) return 'must not contain a backslash';
  if (!canonicalRedirectUri(raw)) return 'must be an absolute URL without spaces, control characters or port 0';
  const u = parseAbsoluteUrl(raw);
  if (!u) return 'must be an absolute URL';
  if (u.username || u.password) return 'must not contain user:password@';
  const webRules = () => {
    const bad = checkWebUrl(u, policy);
    if (bad) return bad;
    if (isLoopbackHost(u.hostname) && !policy.allowInsecure) return 'a web client must not redirect to a loopback address';
    if (!isSameOrSubdomain(u.hostname, clientUri.hostname)) return "must be on the client_uri's host or a subdomain of it";
    return undefined;
  };
  if (type === 'web') return webRules();
  // native
  if (u.protocol === 'https:') return webRules();
  if (u.protocol === 'http:') {
    if (!isLoopbackHost(u.hostname)) return 'http is only allowed for loopback redirect URIs (localhost, 127.0.0.1, [::1])';
    // RFC 8252 §7.3: the port is chosen at run time, so the registered URI carries none.
    if (u.port !== '' || /^http:\/\/[^/]*:\d*(\/|$|\?)/.test(raw)) return 'a loopback redirect URI must not name a port';
    return undefined;
  }
  // Private-use URI scheme (RFC 8252 §7.1): `com.example.app:/callback`, never `com.example.app://…`.
  const scheme = u.protocol.slice(0, -1);
  if (raw.slice(scheme.length + 1).startsWith('//')) return 'a private-use scheme redirect URI must not have an authority (use scheme:/path)';
  const reversed = reversedHost(clientUri.hostname);
  if (scheme !== reversed && !scheme.startsWith(`${reversed}.`)) return `a private-use scheme must be ${reversed} or start with ${reversed}.`;
  return undefined;
}

/**
 * The one form a redirect URI is stored, compared and redirected to: as the WHATWG URL parser (every
 * browser) reads it, so no other parser can see another host in it. Refused (undefined): what does
 * not parse, a backslash (browsers read it as `/` in http(s) URLs, RFC 3986 parsers as part of the
 * userinfo: `https://client.example\@evil.example/cb`), whitespace or control characters, and port 0.
 */
export function canonicalRedirectUri(raw: string): string | undefined {
  if (/[\\\s\u0000-\u001F\u007F]/.test(raw)) return undefined;
  const u = parseAbsoluteUrl(raw);
  if (!u || u.port === '0') return undefined;
  return u.href;
}

/**
 * /authorize: the requested redirect URI equals a registered one, both in canonical form
 * (`canonicalRedirectUri`; no trailing-slash tolerance, no other normalisation), except that a
 * registered port-less loopback URI matches the same URI with any port 1-65535 (RFC 8252 §7.3).
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  const want = canonicalRedirectUri(requested);
  const have = canonicalRedirectUri(registered);
  if (!want || !have) return false;
  if (want === have) return true;
  const w = new URL(want);
  const h = new URL(have);
  if (h.protocol !== 'http:' || !isLoopbackHost(h.hostname) || h.port !== '') return false;
  if (w.protocol !== 'http:' || w.port === '') return false;
  w.port = '';
  return w.href === have;
}
