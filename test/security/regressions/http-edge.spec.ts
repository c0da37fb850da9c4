import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { bearer, postForm } from '../../integration/oauth2/oauth-http.js';

/**
 * Issue 13, on one server behind a pretend reverse proxy (`http.trust_proxy: true`, limits scaled
 * down with CAUSEWAY_RATE_LIMIT_SCALE so a handful of requests reach them):
 *   F3  one trusted hop: the client is the last X-Forwarded-For entry, so rotating the first one
 *       neither escapes a rate limit nor passes CAS `slo_allowed_from`;
 *   F7  the raw introspection handler closes the connection after a 413 instead of reading on, counts
 *       a client abort as a client error (not a logged 5xx), and limits failed authentications;
 *   F8  `/login/sso/redirect` is rate-limited like /authorize (each call stores a request).
 * SQLite only: none of this touches the database's dialect.
 */
const SCALE = 0.1;
const ADMIN = 'admin-token-for-the-edge-regression-012345678';
const logoutRequest = readFileSync(new URL('../../unit/upstream/cas/fixtures/django-logout-request.xml', import.meta.url), 'utf8');
const PROXY = '198.51.100.7';

describe('HTTP edge: proxies, limits, the introspection fast path', () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    cw = await startCauseway({
      env: { CAUSEWAY_RATE_LIMIT_SCALE: String(SCALE) },
      config: {
        http: { trust_proxy: true },
        admin: { token: ADMIN },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Dev' },
            { id: 'campus', kind: 'cas', name: 'Campus', server_url: 'http://127.0.0.1:9/cas', allow_insecure_http: true, slo_allowed_from: ['203.0.113.0/24'] },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await cw?.dispose();
  });

  const slo = (xff: string) =>
    fetch(`${cw.url}/upstream/campus/cas/slo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': xff },
      body: new URLSearchParams({ logoutRequest }).toString(),
    });

  it('F3: believes one hop only: a forged first X-Forwarded-For entry does not pass slo_allowed_from', async () => {
    expect((await slo(`203.0.113.5, ${PROXY}`)).status).toBe(403);
    expect((await slo('203.0.113.5')).status).toBe(200);
    expect((await slo(`198.51.100.1, 203.0.113.5`)).status).toBe(200);
  });

  it('F3: rotating the first X-Forwarded-For entry does not escape a per-address limit', async () => {
    const limit = Math.round(600 * SCALE);
    const statuses: number[] = [];
    for (let i = 0; i < limit + 5; i++) {
      const res = await fetch(`${cw.url}/api/admin/v1/events/status`, { headers: { ...bearer(ADMIN), 'x-forwarded-for': `10.9.${i >> 8}.${i & 255}, 192.0.2.77` } });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, limit).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(limit)).toEqual(Array(5).fill(429));
  });

  it('F8: /login/sso/redirect is limited like /authorize, with a page for the browser', async () => {
    const limit = Math.round(300 * SCALE);
    const url = `${cw.url}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent('http://app.example/cb')}`;
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < limit + 2; i++) {
      last = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': '192.0.2.88' } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, limit).every((s) => s === 303)).toBe(true);
    expect(statuses.slice(limit)).toEqual([429, 429]);
    expect(last!.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('F7: limits failed introspection authentications per address, never successful ones', async () => {
    const failures = Math.max(1, Math.round(30 * SCALE));
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    // Synapse calls all day long from its own address: never limited.
    for (let i = 0; i < failures * 3; i++) {
      expect((await postForm(`${cw.url}/oauth2/introspect`, { token: 'mat_x' }, { ...bearer(SHARED_SECRET), ...from('192.0.2.10') })).status).toBe(200);
    }
    const guesses: number[] = [];
    for (let i = 0; i < failures + 2; i++) {
      guesses.push((await postForm(`${cw.url}/oauth2/introspect`, { token: 'mat_x' }, { ...bearer(`guess-${i}`), ...from('192.0.2.66') })).status);
    }
    expect(guesses).toEqual([...Array(failures).fill(401), 429, 429]);
    // Even the right secret is refused from there for now; elsewhere it works.
    expect((await postForm(`${cw.url}/oauth2/introspect`, { token: 'mat_x' }, { ...bearer(SHARED_SECRET), ...from('192.0.2.66') })).status).toBe(429);
    expect((await postForm(`${cw.url}/oauth2/introspect`, { token: 'mat_x' }, { ...bearer(SHARED_SECRET), ...from('192.0.2.10') })).status).toBe(200);
  });

  it('F7: after a 413 the connection closes instead of reading an unbounded body', async () => {
    const socket = connect(cw.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (c) => (answer += c.toString()));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    socket.write(`POST /oauth2/introspect HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${SHARED_SECRET}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    // Keep sending (at the pace the socket takes it) for up to 15 s: the server must hang up first.
    const deadline = Date.now() + 15_000;
    while (!isClosed && Date.now() < deadline) {
      if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed, new Promise((r) => setTimeout(r, 50))]);
      else await new Promise((r) => setImmediate(r));
    }
    expect(isClosed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.toLowerCase()).toContain('connection: close');
    socket.destroy();
  });

  it('F7: a client abort mid-body is a client error: no 5xx counted, nothing logged as an error', async () => {
    const count5xx = async () => {
      const text = await (await fetch(`${cw.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('causeway_http_request_duration_seconds_count{') && l.includes('route="/oauth2/introspect"') && l.includes('status="5xx"'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = await count5xx();
    const logsBefore = cw.logs.length;
    for (let i = 0; i < 3; i++) {
      const socket = connect(cw.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.on('error', () => undefined);
      socket.write(`POST /oauth2/introspect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=mat_`);
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await count5xx()).toBe(before);
    expect(cw.logs.slice(logsBefore).filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });
});
