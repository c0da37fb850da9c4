import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { startCauseway, type CausewayProcess } from '../../../support/causeway.js';
import { textOf } from '../../../support/browser.js';

/**
 * The CAS service URL of a running Causeway: the browser's return with a ticket is forwarded to
 * the login callback; Single Logout POSTs are checked (address, shape, size) before anything ends.
 * The whole sign-in + logout flow is in test/e2e/cas.
 */
const logoutRequest = readFileSync(new URL('../../../unit/upstream/cas/fixtures/django-logout-request.xml', import.meta.url), 'utf8');
const cas = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'cas',
  name: `CAS ${id}`,
  server_url: 'http://127.0.0.1:9/cas',
  allow_insecure_http: true,
  ...extra,
});

let direct: CausewayProcess;
let proxied: CausewayProcess;

beforeAll(async () => {
  const providers = [cas('campus', { slo_allowed_from: ['10.0.0.0/8', '192.0.2.0/24'] }), cas('open'), cas('local', { slo_allowed_from: ['127.0.0.0/8'] })];
  [direct, proxied] = await Promise.all([startCauseway({ config: { upstream: { providers } } }), startCauseway({ config: { http: { trust_proxy: true }, upstream: { providers } } })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([direct?.dispose(), proxied?.dispose()]);
});

function postForm(server: CausewayProcess, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

describe('CAS service URL: the browser comes back', () => {
  it('forwards state and ticket to the login callback (303, nothing else carried over)', async () => {
    const res = await fetch(`${direct.url}/upstream/campus/cas/service?state=s1&ticket=ST-1-abc&evil=1`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${direct.issuer}upstream/campus/callback?state=s1&ticket=ST-1-abc`);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a repeated parameter with a page, not a 500', async () => {
    const res = await fetch(`${direct.url}/upstream/campus/cas/service?state=s1&ticket=ST-1&ticket=ST-2`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(await res.text())).toContain('The sign-in answer could not be understood.');
  });

  it('answers 404 for a provider that is not CAS or not configured', async () => {
    expect((await fetch(`${direct.url}/upstream/nope/cas/service?state=s1`, { redirect: 'manual' })).status).toBe(404);
    expect((await postForm(direct, '/upstream/dev/cas/slo', { logoutRequest })).status).toBe(404);
  });
});

describe('CAS Single Logout: refused requests end nothing', () => {
  it('refuses a request from outside slo_allowed_from (403)', async () => {
    for (const path of ['/upstream/campus/cas/service?state=s1', '/upstream/campus/cas/slo']) {
      const res = await postForm(direct, path, { logoutRequest });
      expect(res.status).toBe(403);
      expect(textOf(await res.text())).toContain('Logout requests are not accepted from this address.');
    }
  });

  it('ignores X-Forwarded-For without http.trust_proxy', async () => {
    const res = await postForm(direct, '/upstream/campus/cas/slo', { logoutRequest }, { 'x-forwarded-for': '10.1.2.3' });
    expect(res.status).toBe(403);
  });

  it('with http.trust_proxy, judges the client address from X-Forwarded-For', async () => {
    expect((await postForm(proxied, '/upstream/campus/cas/slo', { logoutRequest }, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(403);
    // The socket is loopback, but the client is the forwarded address: outside 127.0.0.0/8.
    expect((await postForm(proxied, '/upstream/local/cas/slo', { logoutRequest }, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(403);
  });

  it.each([
    ['no logoutRequest field', 400, { other: 'x' }],
    ['an empty logoutRequest', 400, { logoutRequest: '' }],
    ['a logoutRequest that is not XML', 400, { logoutRequest: 'ST-1-abc' }],
    ['a logoutRequest with a DOCTYPE', 400, { logoutRequest: `<!DOCTYPE x [<!ENTITY t "ST-1">]>${logoutRequest.replace(/ST-[A-Za-z0-9]+/, '&t;')}` }],
    ['a logoutRequest of another shape', 400, { logoutRequest: '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"/>' }],
    ['a logoutRequest without a service ticket', 400, { logoutRequest: logoutRequest.replace(/ST-[A-Za-z0-9]+/, 'PGT-1') }],
    ['an oversized logoutRequest', 413, { logoutRequest: logoutRequest.replace('</samlp:LogoutRequest>', `<x>${'a'.repeat(20_000)}</x></samlp:LogoutRequest>`) }],
  ])('refuses %s with a page (%i)', async (_what, status, form) => {
    const res = await postForm(direct, '/upstream/open/cas/slo', form as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('refuses a body over http.body_limit (413) and a body that is not a form (415)', async () => {
    const big = await postForm(direct, '/upstream/open/cas/service?state=s', { logoutRequest: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    const xml = await fetch(`${direct.url}/upstream/open/cas/slo`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: logoutRequest });
    expect(xml.status).toBe(415);
    const json = await fetch(`${direct.url}/upstream/open/cas/slo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ logoutRequest }) });
    expect(json.status).toBe(415);
  });

  it('accepts a logoutRequest naming an unknown ticket: 200, nothing ended', async () => {
    for (const [server, path, headers] of [
      [direct, '/upstream/open/cas/service?state=s1', {}],
      [direct, '/upstream/local/cas/slo', {}],
      [proxied, '/upstream/campus/cas/slo', { 'x-forwarded-for': '192.0.2.10' }],
    ] as const) {
      const res = await postForm(server, path, { logoutRequest }, headers);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
    }
  });
});
