import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser, forms, type BrowserResponse } from './browser.js';

/**
 * Fills django-cas-server's login form (test/peers/cas-server) as a person would, following
 * redirects until the browser is sent to a URL `stopAt` accepts (Causeway's service URL).
 */
export async function casLogin(browser: Browser, loginUrl: string, stopAt: (url: string) => boolean, user = 'alice', password = 'alicepass'): Promise<BrowserResponse & { stoppedAt?: string }> {
  const page = await browser.go(loginUrl, {}, stopAt);
  if (page.stoppedAt) return page; // an SSO session at CAS: no form
  const form = forms(page.body, page.url).find((f) => 'lt' in f.fields);
  if (!form) throw new Error(`no CAS login form at ${page.url} (status ${page.status})`);
  return browser.submit(form, { username: user, password }, stopAt);
}

/** A stand-in CAS validation endpoint serving what a test wants: the only way to get hostile answers. */
export interface FakeCas {
  url: string;
  requests: URL[];
  /** Answer of the next validation requests: a body, or 'stall' (never answers). */
  answer: string | Buffer | 'stall';
  status: number;
  close(): Promise<void>;
}

export async function startFakeCas(): Promise<FakeCas> {
  const stalled = new Set<ServerResponse>();
  const fake: FakeCas = {
    url: '',
    requests: [],
    answer: '',
    status: 200,
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', fake.url);
    fake.requests.push(url);
    if (fake.answer === 'stall') {
      stalled.add(res);
      return;
    }
    res.writeHead(fake.status, { 'content-type': 'application/xml; charset=utf-8' }).end(fake.answer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cas`;
  return fake;
}

export const casSuccess = (user: string, attrs = '') =>
  `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>${user}</cas:user><cas:attributes>${attrs}</cas:attributes></cas:authenticationSuccess></cas:serviceResponse>`;
