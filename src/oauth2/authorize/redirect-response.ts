import type { OAuthError } from '../errors.js';

/**
 * Builds the redirect back to the client (RFC 6749 §4.1.2, OAuth 2.0 Multiple Response Types).
 * The redirect URI's own query is kept (Element Web registers `…?no_universal_links=true`).
 * Query mode ends with an empty fragment `#` so the browser drops any fragment of the current page
 * (MAS does the same); fragment mode puts the parameters after `#`.
 */
export function buildRedirect(redirectUri: string, mode: 'query' | 'fragment', params: Record<string, string | undefined>): string {
  const encoded = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const base = redirectUri.split('#')[0]!;
  if (mode === 'fragment') return `${base}#${encoded}`;
  const joiner = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${joiner}${encoded}#`;
}

export function successRedirect(redirectUri: string, mode: 'query' | 'fragment', code: string, state?: string): string {
  return buildRedirect(redirectUri, mode, { state, code });
}

/** `state` is always echoed when the client sent one (matrix-rust-sdk cannot parse an error without it). */
export function errorRedirectUrl(redirectUri: string, mode: 'query' | 'fragment', error: OAuthError, state?: string): string {
  return buildRedirect(redirectUri, mode, { error: error.code, error_description: error.description, state });
}
