/** Helpers to drive Causeway's login pages as a browser without JavaScript would. */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import { Browser, forms, textOf, type BrowserResponse, type HtmlForm } from '../../support/browser.js';

export const CLIENT_URI = 'http://localhost:3000';
export const REDIRECT = 'http://localhost:3000/cb?no_universal_links=true';
export const webClient = (name: string) => ({
  client_name: name,
  client_uri: CLIENT_URI,
  redirect_uris: [REDIRECT],
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
});

export const toClient = (url: string) => url.startsWith(CLIENT_URI);
/** Stop following redirects once they lead to this app's origin. */
export const toOrigin = (origin: string) => (url: string) => url.startsWith(origin);

export interface AuthorizeParams {
  clientId: string;
  deviceId?: string;
  state?: string;
  prompt?: string;
  /** Extra scope tokens (e.g. `openid`) before the Matrix ones. */
  scopePrefix?: string;
  extra?: Record<string, string>;
}

export function pkce() {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(base: string, p: AuthorizeParams & { challenge: string }): string {
  const u = new URL(`${base}/authorize`);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', p.clientId);
  u.searchParams.set('redirect_uri', REDIRECT);
  u.searchParams.set('scope', `${p.scopePrefix ? `${p.scopePrefix} ` : ''}urn:matrix:client:api:* urn:matrix:client:device:${p.deviceId ?? 'DEVICE0001'}`);
  u.searchParams.set('state', p.state ?? 'st-1');
  u.searchParams.set('code_challenge', p.challenge);
  u.searchParams.set('code_challenge_method', 'S256');
  if (p.prompt) u.searchParams.set('prompt', p.prompt);
  for (const [k, v] of Object.entries(p.extra ?? {})) u.searchParams.set(k, v);
  return u.href;
}

export function onlyForm(res: BrowserResponse, match?: (f: HtmlForm) => boolean): HtmlForm {
  const all = forms(res.body, res.url).filter(match ?? (() => true));
  expect(all.length).toBeGreaterThan(0);
  return all[0]!;
}

/** The dev sign-in form: fills the username and posts it to the callback. */
export async function devSignIn(browser: Browser, res: BrowserResponse, username: string, displayName = '', stopAt: (url: string) => boolean = toClient) {
  expect(res.status).toBe(200);
  expect(textOf(res.body)).toContain('development sign-in');
  const form = onlyForm(res, (f) => 'username' in f.fields);
  return browser.submit(form, { username, displayName }, stopAt);
}

/** Presses Allow (or Cancel) on the consent page. */
export async function decide(browser: Browser, res: BrowserResponse, decision: 'allow' | 'deny', stopAt: (url: string) => boolean = toClient) {
  const form = onlyForm(res, (f) => f.action.endsWith('/consent'));
  return browser.go(form.action, { method: 'POST', form: { ...form.fields, decision } }, stopAt);
}

export function codeOf(location: string): { code: string | null; state: string | null; error: string | null } {
  const u = new URL(location);
  return { code: u.searchParams.get('code'), state: u.searchParams.get('state'), error: u.searchParams.get('error') };
}

export async function exchange(base: string, clientId: string, code: string, verifier: string) {
  const res = await fetch(`${base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

/** A complete first sign-in through the dev form and consent; returns the tokens. */
export async function signInAndConsent(base: string, browser: Browser, clientId: string, username: string, deviceId = 'DEVICE0001', extra: Record<string, string> = {}, scopePrefix?: string) {
  const p = pkce();
  let res = await browser.go(authorizeUrl(base, { clientId, deviceId, challenge: p.challenge, extra, scopePrefix }), {}, toClient);
  if (!res.stoppedAt) {
    if (textOf(res.body).includes('development sign-in')) res = await devSignIn(browser, res, username);
    if (!res.stoppedAt) res = await decide(browser, res, 'allow');
  }
  expect(res.stoppedAt).toBeDefined();
  const { code } = codeOf(res.stoppedAt!);
  const tokens = await exchange(base, clientId, code!, p.verifier);
  expect(tokens.status).toBe(200);
  return tokens.json;
}
