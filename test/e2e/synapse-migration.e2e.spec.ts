import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MatrixError, type ValidatedAuthMetadata } from 'matrix-js-sdk';
import { createClient, OAuth2 } from '../support/matrix-sdk.js';
import { stringify } from 'yaml';
import { Browser, forms } from '../support/browser.js';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, withPeerUser } from '../support/oidc-peer.js';
import type { Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { createSynapseDatabase, FIXTURE_IDPS, seedStandardFixture, type StandardFixture, type SynapseTestDatabase } from '../support/synapse-fixture.js';
import { importConfig } from '../integration/migration/import-fixture.js';

/**
 * Switching a running Synapse to Causeway without signing anyone out. A Synapse database (Synapse's
 * own tables at schema version 94) is imported while "Synapse" runs; the homeserver stand-in knows
 * the same users and devices, as the Synapse on that database does; then auth is delegated to
 * Causeway. matrix-js-sdk holding pre-migration `syt_` tokens keeps working, refreshes with its
 * `syr_` token through the compat /refresh, alice signs in on a new device through the real OIDC
 * peer and signs out of it again, and her old devices (and one Causeway never saw) survive.
 */

const RUN = randomBytes(4).toString('hex');
const CLIENT_ID = `causeway-migration-${RUN}`;
const CLIENT_SECRET = randomBytes(16).toString('hex');
const APP = 'http://127.0.0.1:9/app';
const REDIRECT = `${APP}/callback`;

describe.each(TEST_DBS)('switching a Synapse on %s to Causeway', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-migration-e2e-'));
  let peer: Peer;
  let synapse: SynapseTestDatabase;
  let fixture: StandardFixture;
  let db: TestDatabase;
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let metadata: ValidatedAuthMetadata;
  let clientId: string;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/`;
    peer = await oidcPeerWithClients({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${base}upstream/peer/callback`] });

    // Synapse, with years of users and sessions behind it.
    synapse = await createSynapseDatabase(kind, dir);
    fixture = await seedStandardFixture(synapse);
    hs = await startHomeserverStandin({ serverName: 'example.test', secret: SHARED_SECRET, routeCompatToOp: true });
    await hs.loadSynapseDatabase(synapse);
    // A device Causeway will never learn about (created by another path after the import).
    hs.addDevice('alice', 'OTHERPATH');

    // The operator imports while Synapse is live, then delegates auth to Causeway.
    db = await freshDatabase(kind, dir);
    const base_ = importConfig(db);
    const providers = (base_.upstream as { providers: Record<string, unknown>[] }).providers.filter((p) => p.kind !== 'oidc');
    const upstream = {
      providers: [
        {
          id: 'peer',
          kind: 'oidc',
          name: 'Example IdP',
          issuer: peer.url,
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          allow_insecure_http: true,
          scopes: ['openid', 'profile', 'email'],
          // A profile synced at every sign-in: the sign-in sends provision_user, which must not sweep devices either.
          claims: { displayname: { template: '{{ user.name }} (corp)', sync: 'always' } },
          synapse_idp_id: FIXTURE_IDPS.oidc,
        },
        ...providers,
      ],
    };
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, stringify({ ...base_, http: { public_base: base, listen: `127.0.0.1:${port}` }, matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET }, upstream }));
    const imported = await runCli(['import', 'synapse', '--config', configFile, '--synapse-database', synapse.url]);
    expect(imported.stderr).not.toContain('import failed');
    expect(imported.code).toBe(0);

    // Its client registers dynamically: let it ask for urn:synapse:admin:* (refused to dynamic clients by default).
    const policy = { dynamic_client_denied_scopes: [] };
    cw = await startCauseway({ port, database: db, dir, config: { matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET }, upstream, policy } });
    hs.setEndpoint(cw.issuer);
    metadata = await createClient({ baseUrl: hs.url }).getAuthMetadata();
    clientId = await OAuth2.registerClient(metadata, { client_name: 'Element', client_uri: `${APP}/`, redirect_uris: [REDIRECT], application_type: 'web' });
  }, 600_000);

  afterAll(async () => {
    if (peer) await removeOidcPeerClients(peer, CLIENT_ID);
    await cw?.dispose();
    await hs?.stop();
    await db?.drop();
    await synapse?.drop();
    rmSync(dir, { recursive: true, force: true });
    if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
    expect(hs?.unexpectedErrors ?? []).toEqual([]);
  });

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${cw.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded', 'x-mas-supports-device-id': '1' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  /** A sign-in through Causeway at the OIDC peer, as Element does it (matrix-js-sdk builds the URLs). */
  async function signIn(user: string, scope?: string) {
    const oauth = new OAuth2(metadata, { clientId });
    const state = randomBytes(8).toString('hex');
    const url = new URL(await oauth.generateAuthorizationCodeGrantUrl(state, REDIRECT, 'query', undefined, scope?.replace('{device}', oauth.context.deviceId)));
    url.searchParams.set('provider', 'peer');
    const browser = new Browser();
    const atClient = (u: string) => u.startsWith(REDIRECT);
    let res = await browser.go(url.href, {}, atClient);
    for (let step = 0; step < 6 && !res.stoppedAt; step++) {
      const form = forms(res.body, res.url)[0];
      if (res.status !== 200 || !form) break;
      if (res.url.startsWith(peer.url) && 'password' in form.fields) res = await browser.submit(form, { username: user, password: `${user}pass` }, atClient);
      else if (form.action.endsWith('/consent')) res = await browser.submit(form, { decision: 'allow' }, atClient);
      else break;
    }
    expect(res.stoppedAt).toBeDefined();
    const back = new URL(res.stoppedAt!);
    expect(back.searchParams.get('error')).toBeNull();
    const tokens = await oauth.completeAuthorizationCodeGrant(back.searchParams.get('code')!, REDIRECT);
    return { tokens, oauth, deviceId: oauth.context.deviceId };
  }

  async function until(check: () => boolean, what: string) {
    const deadline = Date.now() + 15_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('a Matrix client holding a pre-migration access token keeps working (whoami)', async () => {
    const mx = createClient({ baseUrl: hs.url, accessToken: fixture.tokens.alicePhone });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: 'ALICEPHONE' }));
  });

  it('it refreshes with its Synapse refresh token through the compat /refresh, and keeps going', async () => {
    const laptop = createClient({ baseUrl: hs.url, accessToken: fixture.tokens.aliceLaptop.accessToken });
    expect((await laptop.whoami()).device_id).toBe('ALICELAPTOP');
    const first = await laptop.refreshToken(fixture.tokens.aliceLaptop.refreshToken);
    expect(first.access_token).toMatch(/^mct_/);
    expect(first.refresh_token).toMatch(/^mcr_/);
    const second = await createClient({ baseUrl: hs.url }).refreshToken(first.refresh_token!);
    const mx = createClient({ baseUrl: hs.url, accessToken: second.access_token });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: 'ALICELAPTOP' }));
    // Rotation: the Synapse refresh token was consumed; the superseded pair's one never worked.
    await expect(createClient({ baseUrl: hs.url }).refreshToken(fixture.tokens.aliceLaptop.refreshToken)).rejects.toThrow();
    await expect(createClient({ baseUrl: hs.url }).refreshToken(fixture.tokens.aliceLaptopOld.refreshToken)).rejects.toThrow();
  });

  it('alice signs in on a new device through the OIDC peer, signs out of it, and her old devices survive', () =>
    withPeerUser(peer, 'alice', async () => {
      const fresh = await signIn('alice');
      const mx = createClient({ baseUrl: hs.url, accessToken: fresh.tokens.access_token });
      expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: fresh.deviceId }));
      expect(hs.devices('alice')).toEqual(['ALICELAPTOP', 'ALICEPHONE', 'OTHERPATH', fresh.deviceId].sort());
      await hs.waitForCall((c) => c.path === '/_synapse/mas/provision_user' && (c.body as { set_displayname?: string }).set_displayname === 'Alice Liddell (corp)');
      expect(hs.callsTo('sync_devices')).toEqual([]);

      hs.clearCalls();
      await fresh.oauth.revokeToken(fresh.tokens.access_token, 'access_token');
      await until(() => !hs.devices('alice').includes(fresh.deviceId), 'the new device to leave the homeserver');
      // Only that device went, by delete_device: never a sync_devices that would sweep the others.
      expect(hs.callsTo('sync_devices')).toEqual([]);
      expect(hs.callsTo('delete_device', { ok: true }).map((c) => c.body)).toEqual([{ localpart: 'alice', device_id: fresh.deviceId }]);
      expect(hs.devices('alice')).toEqual(['ALICELAPTOP', 'ALICEPHONE', 'OTHERPATH']);
      expect((await createClient({ baseUrl: hs.url, accessToken: fixture.tokens.alicePhone }).whoami()).device_id).toBe('ALICEPHONE');
    }));

  it('signing out the old device (compat /logout with its Synapse token) removes only that device', async () => {
    const phone = createClient({ baseUrl: hs.url, accessToken: fixture.tokens.alicePhone });
    await phone.logout();
    await until(() => !hs.devices('alice').includes('ALICEPHONE'), 'ALICEPHONE to leave the homeserver');
    expect(hs.devices('alice')).toEqual(['ALICELAPTOP', 'OTHERPATH']);
    expect(await introspect(fixture.tokens.alicePhone)).toEqual({ active: false });
    const err = await phone.whoami().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MatrixError);
    expect((err as MatrixError).errcode).toBe('M_UNKNOWN_TOKEN');
  });

  it("the deactivated user's and the locked user's tokens are inactive; the guest's was never imported", async () => {
    expect(await introspect(fixture.tokens.erin)).toEqual({ active: false });
    expect(await introspect(fixture.tokens.frank)).toEqual({ active: false });
    expect(await introspect(fixture.tokens.guest)).toEqual({ active: false });
    expect(await introspect(fixture.tokens.aliceExpired)).toEqual({ active: false });
    expect(await introspect(fixture.tokens.carol)).toMatchObject({ active: true, username: 'carol', device_id: 'CAROLPHONE' });
  });

  it('the Synapse admin keeps admin rights on his old session and can get urn:synapse:admin:* when he signs in', () =>
    withPeerUser(peer, 'bob', async () => {
      const old = await introspect(fixture.tokens.bobDesk);
      expect(String(old.scope).split(' ')).toContain('urn:synapse:admin:*');
      const admin = await signIn('bob', 'urn:matrix:client:api:* urn:matrix:client:device:{device} urn:synapse:admin:*');
      expect(admin.tokens.scope?.split(' ')).toContain('urn:synapse:admin:*');
      const who = await createClient({ baseUrl: hs.url, accessToken: admin.tokens.access_token }).whoami();
      expect(who.user_id).toBe('@bob:example.test');
      // A user who was no Synapse admin asks for the same and does not get it.
      const plain = await introspect(fixture.tokens.carol);
      expect(String(plain.scope).split(' ')).not.toContain('urn:synapse:admin:*');
    }));
});
