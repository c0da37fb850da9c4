/** Helpers to drive the compatibility layer (MSC3824 legacy login) as a legacy client and its browser would. */
import { createHash } from 'node:crypto';
import { expect } from '@jest/globals';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Browser, forms, textOf, type BrowserResponse } from '../../support/browser.js';
import type { CausewayProcess } from '../../support/causeway.js';
import { PG_URL } from '../../support/databases.js';

export const APP_ORIGIN = 'http://legacy-app.test';
/** Where the legacy client wants the browser back: its own query and fragment must survive. */
export const APP_REDIRECT = `${APP_ORIGIN}/sso/callback?client=legacy#/login`;

export interface JsonResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

/**
 * A request with an exact body and headers, answered as JSON when it parses. The body goes as bytes:
 * fetch would add `Content-Type: text/plain` to a string body.
 */
export async function send(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<JsonResponse> {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
  const res = await fetch(url, { method: init.method ?? 'POST', headers: init.headers ?? {}, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) => send(url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/** The Matrix error of a response, for `toEqual`. */
export const matrixError = (r: JsonResponse) => ({ status: r.status, errcode: r.json.errcode, error: r.json.error });

export function ssoRedirectUrl(base: string, redirectUrl: string, opts: { version?: string; idp?: string; action?: string } = {}): string {
  const u = new URL(`${base}/_matrix/client/${opts.version ?? 'v3'}/login/sso/redirect${opts.idp !== undefined ? `/${encodeURIComponent(opts.idp)}` : ''}`);
  u.searchParams.set('redirectUrl', redirectUrl);
  if (opts.action) {
    u.searchParams.set('action', opts.action);
    u.searchParams.set('org.matrix.msc3824.action', opts.action);
  }
  return u.href;
}

/** Stop following redirects once they lead back to the app (its redirect URL without query and fragment). */
export const backTo = (redirectUrl: string) => {
  const prefix = redirectUrl.split(/[?#]/)[0]!;
  return (url: string) => url.startsWith(prefix);
};

/** Presses Continue (or Cancel) on the compat confirmation page. */
export async function confirm(browser: Browser, res: BrowserResponse, decision: 'allow' | 'deny', stopAt: (url: string) => boolean) {
  const form = forms(res.body, res.url).find((f) => f.action.endsWith('/consent'));
  expect(form).toBeDefined();
  return browser.go(form!.action, { method: 'POST', form: { ...form!.fields, decision } }, stopAt);
}

/** The dev sign-in form (the login's first stop when the dev provider is the only one). */
export async function devForm(browser: Browser, res: BrowserResponse, username: string, stopAt: (url: string) => boolean) {
  expect(textOf(res.body)).toContain('development sign-in');
  const form = forms(res.body, res.url).find((f) => 'username' in f.fields)!;
  return browser.submit(form, { username, displayName: '' }, stopAt);
}

/**
 * A whole legacy SSO login in a browser: `/login/sso/redirect` (on `base`: Causeway or the homeserver
 * proxying to it), the dev sign-in unless the browser is signed in already, the confirmation page,
 * Continue. Returns the URL the browser was sent back to and its `loginToken`.
 */
export async function ssoLogin(browser: Browser, base: string, username: string, redirectUrl = APP_REDIRECT, opts: { version?: string; idp?: string } = {}) {
  const toApp = backTo(redirectUrl);
  let res = await browser.go(ssoRedirectUrl(base, redirectUrl, opts), {}, toApp);
  if (textOf(res.body).includes('development sign-in')) res = await devForm(browser, res, username, toApp);
  expect(textOf(res.body)).toContain(`@${username}:`);
  res = await confirm(browser, res, 'allow', toApp);
  expect(res.stoppedAt).toBeDefined();
  const back = new URL(res.stoppedAt!);
  return { back, loginToken: back.searchParams.get('loginToken')! };
}

/** Runs one SQL statement on the server's database (SQLite file or PostgreSQL schema); returns the rows. */
export async function sql<T = Record<string, unknown>>(cw: CausewayProcess, text: string, params: unknown[] = []): Promise<T[]> {
  if (cw.database.schema) {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${cw.database.schema}` });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const d = new SqliteDatabase(cw.database.url.replace(/^sqlite:\/\//, ''));
  try {
    const stmt = d.prepare(text.replace(/\$\d+/g, '?'));
    return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[];
  } finally {
    d.close();
  }
}

/**
 * Moves a value of the KeyValueStore (the database one: these servers run without Redis) into the
 * past, as if `ms` had elapsed since it was written: the JSON field `field` is decreased by `ms`.
 */
export async function ageKvEntry(cw: CausewayProcess, key: string, field: string, ms: number): Promise<void> {
  const [row] = await sql<{ value: string }>(cw, 'SELECT value FROM kv_entries WHERE key = $1', [key]);
  expect(row).toBeDefined();
  const value = JSON.parse(row!.value) as Record<string, number>;
  value[field] = value[field]! - ms;
  await sql(cw, 'UPDATE kv_entries SET value = $1 WHERE key = $2', [JSON.stringify(value), key]);
}

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
