import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { freePort } from '../../support/ports.js';

describe.each(TEST_DBS)('causeway serve on %s', (db) => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    cw = await startCauseway({ db });
  });
  afterAll(() => cw?.dispose());

  it('answers the health probes', async () => {
    expect((await fetch(`${cw.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${cw.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'up', components: { database: { status: 'up' } } });
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${cw.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await res.text()).toContain('causeway_http_request_duration_seconds');
  });

  it('answers an unknown page with an HTML 404, not a stack trace', async () => {
    const res = await fetch(`${cw.url}/no/such/page`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const body = await res.text();
    expect(body).toContain('Page not found');
    expect(body).not.toMatch(/at .*\.js:\d+/);
  });

  it('logs JSON lines with request ids', async () => {
    await fetch(`${cw.url}/no/such/page`, { headers: { 'x-request-id': 'req-abc-123' } });
    await new Promise((r) => setTimeout(r, 100));
    const line = cw.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req-abc-123' && l.msg === 'request');
    expect(line).toMatchObject({ method: 'GET', status: 404, path: '/no/such/page' });
  });

  it('shuts down gracefully on SIGTERM with exit code 0', async () => {
    const code = await cw.stop();
    expect(code).toBe(0);
  });
});

describe('metrics on their own port (http.metrics_listen)', () => {
  let cw: CausewayProcess;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    cw = await startCauseway({ config: { http: { metrics_listen: `127.0.0.1:${metricsPort}` } } });
  });
  afterAll(() => cw?.dispose());

  it('serves /metrics there and no longer on the public port', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('causeway_http_request_duration_seconds');
    expect((await fetch(`${cw.url}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/health/ready`)).status).toBe(404);
  });

  it('still stops cleanly on SIGTERM', async () => {
    expect(await cw.stop()).toBe(0);
  });
});
