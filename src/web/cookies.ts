import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config/config.schema.js';

/** Binds the browser to the logins it started (signed list of login ids). */
export const LOGIN_COOKIE = 'causeway_login';
/** The browser session at Causeway (signed browser session id). */
export const SESSION_COOKIE = 'causeway_session';
/** The CSRF secret (signed); tokens in forms are derived from it. */
export const CSRF_COOKIE = 'causeway_csrf';

/** How many concurrent logins (tabs) one browser may have in flight. */
const MAX_BOUND_LOGINS = 8;
/** The login cookie outlives the login by this much, so an expired login still shows "expired" (not "another browser"). */
const LOGIN_COOKIE_GRACE_S = 3600;

export interface CookieOptions {
  httpOnly: true;
  sameSite: 'lax';
  secure: boolean;
  path: string;
  signed: true;
  maxAge?: number;
}

/**
 * Every Causeway cookie: signed (@fastify/cookie with the encryption key), HttpOnly, SameSite=Lax
 * (sent on top-level navigations back from an IdP, not on cross-site POSTs), Secure when the public
 * URL is https, scoped to the public path.
 */
export function cookieOptions(config: GatewayConfig, maxAgeSeconds?: number): CookieOptions {
  const base = new URL(config.http.public_base);
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure: base.protocol === 'https:',
    path: base.pathname,
    signed: true,
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
  };
}

/** The verified value of a signed cookie, or undefined (absent or tampered). */
export function readSignedCookie(request: FastifyRequest, name: string): string | undefined {
  const raw = request.cookies[name];
  if (!raw) return undefined;
  const r = request.unsignCookie(raw);
  return r.valid && r.value ? r.value : undefined;
}

export function boundLoginIds(request: FastifyRequest): string[] {
  return (readSignedCookie(request, LOGIN_COOKIE) ?? '').split('.').filter(Boolean);
}

/** Adds a login to the browser's cookie (most recent first, bounded). */
export function bindLogin(request: FastifyRequest, reply: FastifyReply, config: GatewayConfig, loginId: string): void {
  const ids = [loginId, ...boundLoginIds(request).filter((id) => id !== loginId)].slice(0, MAX_BOUND_LOGINS);
  reply.setCookie(LOGIN_COOKIE, ids.join('.'), cookieOptions(config, config.login.ttl + LOGIN_COOKIE_GRACE_S));
}

export function isLoginBound(request: FastifyRequest, loginId: string): boolean {
  return boundLoginIds(request).includes(loginId);
}

/**
 * Set when the browser signs out, cleared when it signs in again: the next sign-in may then ask the
 * IdP to re-authenticate (`request.logged_out` in templated authorization parameters), so that the
 * next person at a shared computer is not signed in silently by the IdP's session.
 */
export const SIGNED_OUT_COOKIE = 'causeway_signed_out';

export function setSessionCookie(reply: FastifyReply, config: GatewayConfig, browserSessionId: string): void {
  reply.setCookie(SESSION_COOKIE, browserSessionId, cookieOptions(config, config.login.browser_session_ttl));
  const { maxAge: _m, ...opts } = cookieOptions(config);
  reply.clearCookie(SIGNED_OUT_COOKIE, opts);
}

export function clearSessionCookie(reply: FastifyReply, config: GatewayConfig): void {
  const { maxAge: _m, ...opts } = cookieOptions(config);
  reply.clearCookie(SESSION_COOKIE, opts);
  reply.setCookie(SIGNED_OUT_COOKIE, '1', cookieOptions(config, config.login.browser_session_ttl));
}

/** Whether the browser signed out since its last sign-in (SIGNED_OUT_COOKIE). */
export function signedOutSinceLastSignIn(request: FastifyRequest): boolean {
  return readSignedCookie(request, SIGNED_OUT_COOKIE) === '1';
}

/** The language chosen with the picker (a preference, not a secret: unsigned, checked against the catalogs on read). */
export const LANGUAGE_COOKIE = 'causeway_lang';
const LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

export function setLanguageCookie(reply: FastifyReply, config: GatewayConfig, tag: string): void {
  const { signed: _s, ...opts } = cookieOptions(config, LANGUAGE_COOKIE_MAX_AGE_S);
  reply.setCookie(LANGUAGE_COOKIE, tag, opts);
}
