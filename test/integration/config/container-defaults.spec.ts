import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/config.loader.js';
import { gatewayConfigSchema } from '../../../src/upstream/gateway-config.schema.js';
import { baseConfig, ROOT, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { freePort } from '../../support/ports.js';

/**
 * What the container image sets (Dockerfile: ENV CAUSEWAY_HTTP_LISTEN=0.0.0.0:8080, HEALTHCHECK
 * node bin/healthcheck.js), run as the image runs it, with a config that says nothing about
 * `http.listen`: `docker run -p 8080:8080` must reach the server, and Docker's health check must
 * see it live.
 */
describe('the container defaults', () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    const port = await freePort();
    cw = await startCauseway({
      port,
      baseConfig: (p, db) => {
        const c = baseConfig(p, db);
        const { listen: _left_out, ...http } = c.http as Record<string, unknown>;
        return { ...c, http };
      },
      env: { CAUSEWAY_HTTP_LISTEN: `0.0.0.0:${port}` },
    });
  });
  afterAll(() => cw?.dispose());

  it('listens on every interface when the config gives no http.listen', async () => {
    // The server answers its readiness probe as soon as it listens; the log line follows a moment
    // later (after the metrics listener starts), so wait for it rather than read the logs at once.
    const listening = () => cw.logs.map((l) => JSON.parse(l) as { msg?: string; listen?: string }).find((l) => l.msg === 'causeway is listening');
    for (let i = 0; i < 100 && !listening(); i++) await new Promise((r) => setTimeout(r, 100));
    const line = listening();
    expect(line?.listen).toBe(`http://0.0.0.0:${cw.port}`);
    // Reachable through an address other than loopback, as a published container port is.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) expect((await fetch(`http://${external.address}:${cw.port}/health/live`)).status).toBe(200);
  });

  it("bin/healthcheck.js (the image's HEALTHCHECK) exits 0 while the server is live, 1 when nothing answers", async () => {
    const check = (listen: string) => spawnSync(process.execPath, [join(ROOT, 'bin/healthcheck.js')], { env: { ...process.env, CAUSEWAY_HTTP_LISTEN: listen }, timeout: 10_000 }).status;
    expect(check(`0.0.0.0:${cw.port}`)).toBe(0);
    expect(check(`0.0.0.0:${await freePort()}`)).toBe(1);
  });

  it('a config that sets http.listen keeps it; without the variable the default stays loopback', () => {
    const yaml = (http: Record<string, unknown>) =>
      stringify({ dev_mode: true, http: { public_base: 'http://localhost:8080/', ...http }, matrix: { homeserver: 'example.test', api: 'none' }, upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] } });
    const previous = process.env.CAUSEWAY_HTTP_LISTEN;
    try {
      process.env.CAUSEWAY_HTTP_LISTEN = '0.0.0.0:8080';
      expect(parseConfig(yaml({ listen: '127.0.0.1:9000' }), gatewayConfigSchema).http.listen).toBe('127.0.0.1:9000');
      expect(parseConfig(yaml({}), gatewayConfigSchema).http.listen).toBe('0.0.0.0:8080');
      delete process.env.CAUSEWAY_HTTP_LISTEN;
      expect(parseConfig(yaml({}), gatewayConfigSchema).http.listen).toBe('127.0.0.1:8080');
    } finally {
      if (previous === undefined) delete process.env.CAUSEWAY_HTTP_LISTEN;
      else process.env.CAUSEWAY_HTTP_LISTEN = previous;
    }
  });
});
