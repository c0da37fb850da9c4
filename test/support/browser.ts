import { CookieJar } from 'tough-cookie';
import { parse } from 'node-html-parser';
import { chromium, type Browser as Chromium } from 'playwright-core';

/** Headless Chromium (the Debian package; CHROMIUM_PATH overrides), for pages as a real browser renders them. */
export function launchChromium(): Promise<Chromium> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface BrowserResponse {
  url: string;
  status: number;
  headers: Headers;
  location: string | null;
  body: string;
}

export interface HtmlForm {
  action: string;
  method: 'GET' | 'POST';
  fields: Record<string, string>;
  /** All submit buttons: name → value. */
  buttons: Record<string, string>;
}

/**
 * A scripted browser for pages without JavaScript: a cookie jar, manual redirects, HTML forms.
 * Used to drive Causeway's pages and the upstream IdPs' login forms as a user would.
 */
export class Browser {
  readonly jar = new CookieJar();
  readonly history: string[] = [];

  /** `headers`: sent with every request (e.g. a `traceparent`, as a tracing proxy in front would add). */
  constructor(private readonly headers: Record<string, string> = {}) {}

  async request(url: string, opts: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<BrowserResponse> {
    const method = opts.method ?? 'GET';
    const headers: Record<string, string> = { 'user-agent': 'causeway-tests', accept: 'text/html', ...this.headers, ...opts.headers };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    this.history.push(`${method} ${url}`);
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) await this.jar.setCookie(c, url, { ignoreError: true });
    const location = res.headers.get('location');
    return { url, status: res.status, headers: res.headers, location: location ? new URL(location, url).href : null, body: await res.text() };
  }

  /** Follows redirects; stops (without requesting it) at the first location for which `stopAt` is true. */
  async go(url: string, opts: { method?: string; form?: Record<string, string> } = {}, stopAt: (url: string) => boolean = () => false): Promise<BrowserResponse & { stoppedAt?: string }> {
    let res = await this.request(url, opts);
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400 && res.location; i++) {
      if (stopAt(res.location)) return { ...res, stoppedAt: res.location };
      res = await this.request(res.location);
    }
    return res;
  }

  /** Submits a form (optionally pressing a named button), following redirects. */
  async submit(form: HtmlForm, values: Record<string, string> = {}, stopAt?: (url: string) => boolean, button?: string) {
    const fields = { ...form.fields, ...(button ? { [button]: form.buttons[button] ?? '' } : firstButton(form)), ...values };
    if (form.method === 'GET') {
      const u = new URL(form.action);
      for (const [k, v] of Object.entries(fields)) u.searchParams.set(k, v);
      return this.go(u.href, {}, stopAt);
    }
    return this.go(form.action, { method: 'POST', form: fields }, stopAt);
  }
}

function firstButton(form: HtmlForm): Record<string, string> {
  const [name] = Object.keys(form.buttons);
  return name ? { [name]: form.buttons[name]! } : {};
}

/** Every <form> of a page with its fields (inputs, checked boxes, selects, textareas) and submit buttons. */
export function forms(html: string, baseUrl: string): HtmlForm[] {
  return parse(html)
    .querySelectorAll('form')
    .map((f) => {
      const fields: Record<string, string> = {};
      const buttons: Record<string, string> = {};
      for (const el of f.querySelectorAll('input, select, textarea, button')) {
        const name = el.getAttribute('name');
        if (!name) continue;
        const type = (el.getAttribute('type') ?? '').toLowerCase();
        if (el.tagName === 'BUTTON' || type === 'submit') {
          buttons[name] = el.getAttribute('value') ?? '';
          continue;
        }
        if ((type === 'checkbox' || type === 'radio') && !el.hasAttribute('checked')) continue;
        if (el.tagName === 'SELECT') {
          const opt = el.querySelector('option[selected]') ?? el.querySelector('option');
          fields[name] = opt?.getAttribute('value') ?? opt?.text ?? '';
          continue;
        }
        fields[name] = el.tagName === 'TEXTAREA' ? el.text : (el.getAttribute('value') ?? '');
      }
      return {
        action: new URL(f.getAttribute('action') || baseUrl, baseUrl).href,
        method: ((f.getAttribute('method') ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET') as 'GET' | 'POST',
        fields,
        buttons,
      };
    });
}

export function textOf(html: string): string {
  return parse(html).querySelector('main')?.text.replace(/\s+/g, ' ').trim() ?? parse(html).text.replace(/\s+/g, ' ').trim();
}
