/**
 * The `redirectUrl` of `GET /_matrix/client/{v}/login/sso/redirect` (docs/contracts/synapse.md §5.2).
 * Pure functions.
 *
 * As MAS: any absolute URL (legacy desktop and mobile clients use their own schemes, such as
 * `element://vector/webapp/` or `io.element.android:/sso`), but never one carrying a user name or
 * password, and an http(s) URL must have a host. The login token is appended to the URL's own
 * query, which is kept.
 */

/** Longer is not a redirect a client builds (and would not fit in a Location header everywhere). */
export const MAX_REDIRECT_URL_LENGTH = 2048;

export type RedirectUrlCheck = { ok: true; url: URL } | { ok: false; reason: 'missing' | 'too_long' | 'not_absolute' | 'userinfo' | 'no_host' | 'unsafe_scheme' };

/** Schemes that run code or read local data in the browser: a redirect there would be an attack. */
const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'blob:', 'file:', 'about:']);

export function checkRedirectUrl(raw: string | undefined): RedirectUrlCheck {
  if (raw === undefined || raw === '') return { ok: false, reason: 'missing' };
  if (raw.length > MAX_REDIRECT_URL_LENGTH) return { ok: false, reason: 'too_long' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not_absolute' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'userinfo' };
  if (UNSAFE_SCHEMES.has(url.protocol)) return { ok: false, reason: 'unsafe_scheme' };
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === '') return { ok: false, reason: 'no_host' };
  return { ok: true, url };
}

/**
 * `redirectUrl` with `loginToken` appended to its query. Its own query is kept byte for byte (not
 * re-encoded, as URLSearchParams would) and so is its fragment (Element Web's `#/login`).
 */
export function withLoginToken(redirectUrl: string, loginToken: string): string {
  const url = new URL(redirectUrl);
  const param = `loginToken=${encodeURIComponent(loginToken)}`;
  url.search = url.search.length > 1 ? `${url.search.slice(1)}&${param}` : param;
  return url.href;
}

/**
 * Where the token goes, as the confirmation page names it: the host of a web URL (with its port),
 * the scheme and host of an app URL (`element://vector`), or the scheme alone (`io.element.android:`).
 */
export function redirectTarget(redirectUrl: string): string {
  const url = new URL(redirectUrl);
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.host;
  return url.host ? `${url.protocol}//${url.host}` : url.protocol;
}
