import { CookieJar } from 'tough-cookie';
import { parse } from 'node-html-parser';
import type { CorpusContext } from './corpus-server.js';

/**
 * One hostile request of the corpus and what the protocol must answer: the status and the
 * protocol's own error (an OAuth `error`, a Matrix `errcode`, an HTML error page, a redirect back
 * to the client with `error=`, or a 200 that grants nothing, such as `{"active":false}`).
 *
 * Beyond its own expectation every case passes the universal checks (`judge`): no 5xx anywhere in
 * the chain of redirects it follows, no session cookie set, no token in a body or a Location, no
 * Location to a host the case did not name.
 */
export type Family = 'authorize' | 'token' | 'registration' | 'revoke' | 'introspect' | 'device' | 'end-session' | 'compat' | 'account' | 'admin' | 'upstream-oidc' | 'upstream-saml' | 'upstream-cas';

export type Expectation =
  /** An OAuth JSON error (RFC 6749 §5.2 shape). */
  | { status: number; oauth: string }
  /** A Matrix `{errcode, error}`. */
  | { status: number; matrix: string }
  /** An HTML page (an error page, or a form shown again); `says` must appear in its text. */
  | { status: number; page: true; says?: RegExp }
  /** An /authorize error sent back to the client's redirect URI with `error=`. */
  | { status: 303; redirectError: string }
  /** A non-error answer that grants nothing (checked by `grantsNothing`, e.g. `{"active":false}`). */
  | { status: number; grantsNothing: (body: string, res: Hop) => string | undefined }
  /** A plain-text or empty answer with this status (SAML metadata-less endpoints, CAS `ok`). */
  | { status: number; text: RegExp };

export interface RequestSpec {
  method?: string;
  /** Path and query on Causeway, or an absolute URL. */
  path: string;
  headers?: Record<string, string>;
  /** A raw body (string or bytes): sent as is, with no content type unless given. */
  body?: string | Buffer;
  /** A form body (`application/x-www-form-urlencoded`); pairs allow repeated names. */
  form?: Record<string, string> | Array<[string, string]>;
  /** A JSON body. */
  json?: unknown;
  /** Follow redirects that stay on Causeway (a browser coming back from a parked POST callback, for instance). */
  follow?: boolean;
}

export interface CorpusCase {
  /** Unique across the corpus: `<family>/<what>`. */
  id: string;
  family: Family;
  /** Work before the request (start a login, mint a code): its result is given to `request`. */
  prepare?: (ctx: CorpusContext) => Promise<unknown>;
  request: (ctx: CorpusContext, prepared: any) => RequestSpec;
  /** The browser that sends it: a fresh one unless the case prepared one (`prepared.agent`) or names the signed-in victim. */
  as?: 'fresh' | 'victim';
  expect: Expectation;
  /** Origins a Location may point to besides Causeway's (the registered client for /authorize error redirects). */
  mayRedirectTo?: (ctx: CorpusContext) => string[];
  /** After the answer: undefined when nothing was granted, else what was (e.g. "the victim's token was revoked"). */
  after?: (ctx: CorpusContext, prepared: any) => Promise<string | undefined>;
}

export interface Hop {
  url: string;
  status: number;
  headers: Headers;
  location: string | null;
  setCookies: string[];
  body: string;
}

/** A browser without JavaScript: a cookie jar, manual redirects. */
export class Agent {
  readonly jar = new CookieJar();

  async send(base: string, spec: RequestSpec): Promise<Hop[]> {
    const hops: Hop[] = [];
    let url = new URL(spec.path, base).href;
    let method = spec.method ?? (spec.form || spec.json !== undefined || spec.body !== undefined ? 'POST' : 'GET');
    const headers: Record<string, string> = { 'user-agent': 'causeway-corpus', ...spec.headers };
    let body: string | Buffer | undefined = spec.body;
    if (spec.form) {
      body = new URLSearchParams(spec.form as Record<string, string>).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (spec.json !== undefined) {
      body = JSON.stringify(spec.json);
      headers['content-type'] ??= 'application/json';
    }
    for (let i = 0; i < 10; i++) {
      const cookie = await this.jar.getCookieString(url);
      const h = { ...headers, ...(cookie ? { cookie } : {}) };
      const res = await fetch(url, { method, headers: h, body: typeof body === 'string' ? Buffer.from(body) : body, redirect: 'manual' });
      const setCookies = res.headers.getSetCookie();
      for (const c of setCookies) await this.jar.setCookie(c, url, { ignoreError: true });
      const location = res.headers.get('location');
      const hop: Hop = { url, status: res.status, headers: res.headers, location: location ? new URL(location, url).href : null, setCookies, body: await res.text() };
      hops.push(hop);
      if (!spec.follow || !hop.location || res.status < 300 || res.status >= 400 || !hop.location.startsWith(base)) break;
      url = hop.location;
      method = 'GET';
      body = undefined;
      delete headers['content-type'];
    }
    return hops;
  }

  async cookie(base: string, name: string): Promise<string | undefined> {
    return (await this.jar.getCookies(base)).find((c) => c.key === name)?.value;
  }
}

export type Verdict = 'refused' | 'accepted_wrongly' | 'server_error' | 'mismatch';
export interface Outcome {
  id: string;
  family: Family;
  verdict: Verdict;
  /** Why, when not refused as expected. */
  why?: string;
  status?: number;
}

const SESSION_COOKIE = /^(__Host-)?causeway_session=([^;]*)/;
/** Tokens that must never come back from a hostile request. */
const TOKEN_IN_BODY = /"(access_token|refresh_token|id_token|device_code_token)"\s*:/;
const TOKEN_IN_URL = /[?&#](code|loginToken|access_token|refresh_token|id_token)=/;

export const textOf = (html: string) => parse(html).querySelector('main')?.text.replace(/\s+/g, ' ').trim() ?? parse(html).text.replace(/\s+/g, ' ').trim();

/** Compares the answer with the case's expectation and runs the universal checks. */
export function judge(c: CorpusCase, ctx: CorpusContext, hops: Hop[], afterProblem: string | undefined): Outcome {
  const final = hops[hops.length - 1]!;
  const out = (verdict: Verdict, why?: string): Outcome => ({ id: c.id, family: c.family, verdict, why, status: final.status });
  const fiveHundred = hops.find((h) => h.status >= 500);
  if (fiveHundred) return out('server_error', `${fiveHundred.status} at ${new URL(fiveHundred.url).pathname}: ${fiveHundred.body.slice(0, 200)}`);

  // Universal: nothing that signs anyone in, hands out a token, or bounces the browser elsewhere.
  const allowedOrigins = [new URL(ctx.url).origin, ...(c.mayRedirectTo?.(ctx) ?? [])];
  for (const h of hops) {
    for (const sc of h.setCookies) {
      const m = SESSION_COOKIE.exec(sc);
      if (m && m[2] !== '' && !/max-age=0|expires=thu, 01 jan 1970/i.test(sc)) return out('accepted_wrongly', `session cookie set by ${new URL(h.url).pathname}`);
    }
    if (TOKEN_IN_BODY.test(h.body)) return out('accepted_wrongly', `token in the body of ${new URL(h.url).pathname}`);
    if (h.location) {
      const origin = new URL(h.location).origin;
      if (!allowedOrigins.includes(origin)) return out('accepted_wrongly', `Location to a foreign origin: ${h.location}`);
      if (TOKEN_IN_URL.test(h.location) && !h.location.startsWith(ctx.url)) return out('accepted_wrongly', `credential in Location ${h.location}`);
    }
  }
  if (afterProblem) return out('accepted_wrongly', afterProblem);

  const e = c.expect;
  const type = final.headers.get('content-type') ?? '';
  if (final.status !== e.status) {
    const wrongly = final.status < 400 && e.status >= 400;
    return out(wrongly ? 'accepted_wrongly' : 'mismatch', `status ${final.status}, expected ${e.status}: ${summary(final)}`);
  }
  if ('oauth' in e) {
    const got = jsonField(final.body, 'error');
    if (got !== e.oauth) return out('mismatch', `error ${got}, expected ${e.oauth}: ${final.body.slice(0, 200)}`);
  } else if ('matrix' in e) {
    const got = jsonField(final.body, 'errcode');
    if (got !== e.matrix) return out('mismatch', `errcode ${got}, expected ${e.matrix}: ${final.body.slice(0, 200)}`);
  } else if ('page' in e) {
    if (!type.startsWith('text/html')) return out('mismatch', `content type ${type}, expected an HTML page`);
    if (e.says && !e.says.test(textOf(final.body))) return out('mismatch', `page does not say ${e.says}: ${textOf(final.body).slice(0, 300)}`);
  } else if ('redirectError' in e) {
    const loc = final.location ? new URL(final.location) : undefined;
    const got = loc?.searchParams.get('error') ?? (loc ? new URLSearchParams(loc.hash.slice(1)).get('error') : null);
    if (got !== e.redirectError) return out('mismatch', `redirect error ${got}, expected ${e.redirectError} (${final.location})`);
  } else if ('grantsNothing' in e) {
    const problem = e.grantsNothing(final.body, final);
    if (problem) return out('accepted_wrongly', problem);
  } else if ('text' in e) {
    if (!e.text.test(final.body)) return out('mismatch', `body ${final.body.slice(0, 200)} does not match ${e.text}`);
  }
  return out('refused');
}

function jsonField(body: string, field: string): unknown {
  try {
    return (JSON.parse(body) as Record<string, unknown>)[field];
  } catch {
    return undefined;
  }
}

function summary(h: Hop): string {
  const type = h.headers.get('content-type') ?? '';
  const text = type.startsWith('text/html') ? textOf(h.body) : h.body;
  return `${h.location ? `→ ${h.location} ` : ''}${text.slice(0, 240)}`;
}

/** The one line the runner prints per database. */
export function summaryLine(outcomes: Outcome[]): string {
  const count = (v: Verdict) => outcomes.filter((o) => o.verdict === v).length;
  return `${outcomes.length} cases, ${count('refused')} refused as expected, ${count('accepted_wrongly')} accepted wrongly, ${count('server_error')} server errors`;
}

/** Shorthands for the tables. */
export const oauth = (status: number, error: string): Expectation => ({ status, oauth: error });
export const matrix = (status: number, errcode: string): Expectation => ({ status, matrix: errcode });
export const page = (status: number, says?: RegExp): Expectation => ({ status, page: true, ...(says ? { says } : {}) });
export const redirectError = (error: string): Expectation => ({ status: 303, redirectError: error });
/**
 * The hostile part is ignored and a login starts on this server (an unknown `provider` or `idp`):
 * nothing is granted, the browser stays here.
 */
export const startsLogin: Expectation = {
  status: 303,
  grantsNothing: (_body, hop) =>
    hop.location && new URL(hop.location).origin === new URL(hop.url).origin && /^\/(login|complete-compat-sso)\/[0-9A-Z]{26}$/.test(new URL(hop.location).pathname) ? undefined : `sent to ${hop.location}`,
};
