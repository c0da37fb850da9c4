import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients } from '../../support/oidc-peer.js';
import type { Peer } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { fixtureKeys, idpMetadataXml } from '../../support/saml-forge.js';

/**
 * `causeway doctor` against a running deployment (PostgreSQL, Redis, the homeserver stand-in, the
 * real OIDC peer, a SAML IdP's metadata): every line ✔ and exit 0; then the same deployment with one
 * part broken at a time, each giving exactly its own ✖ with a hint, and exit 1.
 */
const RUN = randomBytes(4).toString('hex');
const CLIENT_ID = `causeway-doctor-${RUN}`;
const PREFIX = `causeway:test:${RUN}:`;

let peer: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let metadata: Server;
let metadataUrl: string;
let healthy: Record<string, unknown>;

beforeAll(async () => {
  const port = await freePort();
  peer = await oidcPeerWithClients({ client_id: CLIENT_ID, client_secret: 'doctor-secret', redirect_uris: [`http://127.0.0.1:${port}/upstream/peer/callback`] });
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: `http://127.0.0.1:${port}/`, secret: SHARED_SECRET });
  const idp = fixtureKeys('idp');
  const expired = fixtureKeys('expired');
  metadata = createServer((req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/samlmetadata+xml' })
      .end(idpMetadataXml({ entityId: 'https://idp.example.test/idp', ssoUrl: 'https://idp.example.test/sso', certs: [req.url === '/expired' ? expired.cert : idp.cert] })),
  );
  const metadataPort = await freePort();
  await new Promise<void>((r) => metadata.listen(metadataPort, '127.0.0.1', r));
  metadataUrl = `http://127.0.0.1:${metadataPort}`;
  const sp = fixtureKeys('sp');
  cw = await startCauseway({
    port,
    db: 'postgres',
    config: {
      redis: { url: 'redis://127.0.0.1:6379', key_prefix: PREFIX },
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          { id: 'peer', kind: 'oidc', name: 'Example IdP', issuer: peer.url, client_id: CLIENT_ID, client_secret: 'doctor-secret', allow_insecure_http: true },
          { id: 'corp', kind: 'saml', name: 'Corporate SAML', metadata_url: `${metadataUrl}/metadata`, allow_insecure_http: true, sp: { key_file: sp.keyFile, cert_file: sp.certFile } },
        ],
      },
    },
  });
  healthy = parse(readFileSync(join(cw.dir, `gateway-${cw.port}.yaml`), 'utf8')) as Record<string, unknown>;
}, 300_000);

afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, CLIENT_ID);
  await cw?.dispose();
  await hs?.stop();
  await new Promise((r) => (metadata ? metadata.close(r) : r(undefined)));
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

/** Runs the doctor on the healthy config changed by `change`; returns the exit code, the report and its ✖ lines by name. */
async function doctor(name: string, change: (c: Record<string, any>) => void = () => undefined) {
  const config = structuredClone(healthy) as Record<string, any>;
  change(config);
  const file = join(cw.dir, `doctor-${name}.yaml`);
  writeFileSync(file, stringify(config));
  const r = await runCli(['doctor', '--config', file], { cwd: cw.dir });
  const lines = r.stdout.split('\n');
  const failed = lines.filter((l) => l.startsWith('✖ ')).map((l) => l.slice(2, l.indexOf(':')));
  if (process.env.DOCTOR_SHOW) process.stdout.write(r.stdout);
  return { code: r.code, report: r.stdout, lines, failed, stderr: r.stderr };
}

describe('causeway doctor', () => {
  it('a healthy deployment: every part ✔, exit 0', async () => {
    const r = await doctor('healthy');
    process.stdout.write(`--- doctor, healthy ---\n${r.report}`);
    expect(r.stderr).toBe('');
    expect(r.failed).toEqual([]);
    expect(r.code).toBe(0);
    const checked = r.lines.filter((l) => l.startsWith('✔ ')).map((l) => l.slice(2, l.indexOf(':')));
    expect(checked).toEqual(['config', 'database', 'redis', 'homeserver', 'public_base', 'upstream peer (oidc)', 'upstream corp (saml)', 'clock']);
    expect(r.report).toMatch(/✔ database: postgres reachable, all \d+ migrations applied/);
    expect(r.report).toMatch(/✔ homeserver: .* reachable, shared secret accepted \(synapse-mas\)/);
    expect(r.report).toMatch(/✔ clock: within \d+ s of the homeserver, IdP peer, IdP corp/);
    expect(r.report.trimEnd().endsWith('Everything looks right.')).toBe(true);
  });

  it('database down: ✖ database, exit 1', async () => {
    const r = await doctor('database-down', (c) => {
      c.database.url = `postgres://postgres@127.0.0.1:${1}/test`;
    });
    expect([r.code, r.failed]).toEqual([1, ['database']]);
    expect(r.report).toMatch(/✖ database: postgres unreachable \(ECONNREFUSED\)\n {4}hint: check database.url/);
  });

  it('a wrong shared secret at the homeserver: ✖ homeserver (the stand-in answers 403), exit 1', async () => {
    const r = await doctor('wrong-secret', (c) => {
      c.matrix.secret = 'not-the-shared-secret-0123456789';
    });
    expect([r.code, r.failed]).toEqual([1, ['homeserver']]);
    expect(r.report).toMatch(/✖ homeserver: .* refused the shared secret \(HTTP 403\)\n {4}hint: matrix.secret must equal Synapse's matrix_authentication_service.secret/);
  });

  it('an unreachable IdP: ✖ for that provider only, exit 1', async () => {
    const closed = await freePort();
    const r = await doctor('idp-down', (c) => {
      c.upstream.providers[0].issuer = `http://127.0.0.1:${closed}`;
    });
    expect([r.code, r.failed]).toEqual([1, ['upstream peer (oidc)']]);
    expect(r.report).toMatch(/✖ upstream peer \(oidc\): http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration unreachable \(ECONNREFUSED\)\n {4}hint: /);
  });

  it('an expired SAML signing certificate in the IdP metadata: ✖ for that provider, exit 1', async () => {
    const r = await doctor('saml-expired', (c) => {
      c.upstream.providers[1].metadata_url = `${metadataUrl}/expired`;
    });
    expect([r.code, r.failed]).toEqual([1, ['upstream corp (saml)']]);
    expect(r.report).toMatch(/✖ upstream corp \(saml\): IdP signing certificate [0-9A-F:]+… expired on 2021-01-01\n {4}hint: the IdP must roll its signing key over/);
    process.stdout.write(`--- doctor, expired SAML certificate ---\n${r.report}`);
  });
});
