import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { Browser, forms, type BrowserResponse } from '../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, setOidcPeerUser } from '../support/oidc-peer.js';
import { ensurePeer, type Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { TEST_DBS } from '../support/databases.js';
import { CausewayDb } from '../support/causeway-db.js';
import { OutboxEntity } from '../../src/storage/entities/index.js';
import { IDP_METADATA_PATH, idpLogin, makeSpKeys, registerSp } from '../support/saml-peer.js';
import { TINY_PNG } from '../support/github-standin.js';
import { registerClient } from '../integration/oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, exchange, pkce, toClient, webClient } from '../integration/login/login-flow.js';

/**
 * Avatars from the IdP end as the avatar at the homeserver stand-in: the image uploaded to its
 * media repository as the user (the upload authenticated by introspecting a token Causeway minted
 * for it), then set with provision_user `set_avatar_url`, delivered through the event bus after
 * the account was provisioned. From a `picture` URL (the real oidc-provider peer, the image on a
 * loopback server: the tests run in dev_mode) and from a base64 `jpegPhoto` (the real
 * SimpleSAMLphp peer, user carol). An oversized avatar and one that is not an image are skipped
 * with a log line naming the reason, and those sign-ins succeed all the same.
 */

const RUN = randomBytes(4).toString('hex');
const CLIENT = `avatars-${RUN}`;
/** The 1×1 JPEG the SAML peer sends as carol's jpegPhoto (test/peers/saml-idp/config/authsources.php). */
const CAROL_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);
let oidcPeer: Peer;
let samlPeer: Peer;
let images: Server;
let imagesUrl: string;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let clientId: string;
const dir = mkdtempSync(join(tmpdir(), 'causeway-avatars-'));
const unregister: Array<() => void> = [];
const peerUsers = { ok: `pic-${RUN}`, big: `big-${RUN}`, text: `txt-${RUN}` };

beforeAll(async () => {
  // The pictures: a PNG (behind a redirect), one over the limit, and an HTML page that says it is a PNG.
  images = createServer((req, res) => {
    if (req.url === '/u/ok') return res.writeHead(302, { location: '/img/ok.png' }).end();
    if (req.url === '/img/ok.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(TINY_PNG);
    if (req.url === '/img/big.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.concat([TINY_PNG, Buffer.alloc(64 * 1024)]));
    if (req.url === '/img/page.png') return res.writeHead(200, { 'content-type': 'image/png' }).end('<!doctype html><p>not an image</p>');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  imagesUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}`;

  samlPeer = await ensurePeer('saml');
  oidcPeer = await ensurePeer('oidc');
  await setOidcPeerUser(oidcPeer, peerUsers.ok, { password: 'pw', claims: { preferred_username: peerUsers.ok, name: 'Pat Picture', picture: `${imagesUrl}/u/ok` } });
  await setOidcPeerUser(oidcPeer, peerUsers.big, { password: 'pw', claims: { preferred_username: peerUsers.big, name: 'Big Picture', picture: `${imagesUrl}/img/big.png` } });
  await setOidcPeerUser(oidcPeer, peerUsers.text, { password: 'pw', claims: { preferred_username: peerUsers.text, name: 'Text Picture', picture: `${imagesUrl}/img/page.png` } });
}, 600_000);

afterAll(async () => {
  if (oidcPeer) for (const u of Object.values(peerUsers)) await setOidcPeerUser(oidcPeer, u, undefined);
  await new Promise((r) => images?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** Back at the client with a code, exchanged: the sign-in succeeded. */
async function finish(browser: Browser, res: BrowserResponse & { stoppedAt?: string }, verifier: string) {
  let out = res;
  if (!out.stoppedAt && out.status === 200 && forms(out.body, out.url).some((f) => f.action.endsWith('/consent'))) out = await decide(browser, out, 'allow');
  expect(out.stoppedAt).toBeDefined();
  const { code, error } = codeOf(out.stoppedAt!);
  expect(error).toBeNull();
  expect((await exchange(cw.url, clientId, code!, verifier)).status).toBe(200);
}

async function oidcSignIn(username: string) {
  const browser = new Browser();
  const p = pkce();
  const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider: 'peer' } }), {}, toClient);
  const [login] = forms(res.body, res.url);
  await finish(browser, await browser.submit(login!, { username, password: 'pw' }, toClient), p.verifier);
}

async function samlSignIn(username: string, password: string) {
  const browser = new Browser();
  const p = pkce();
  const atIdp = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider: 'ssp' } }), {}, toClient);
  const acs = await idpLogin(browser, atIdp, { username, password });
  await finish(browser, await browser.go(acs.action, { method: 'POST', form: acs.fields }, toClient), p.verifier);
}

/** The avatar set on a user at the homeserver, once the bus delivered it: the media it points at. */
async function avatarOf(localpart: string) {
  const call = await hs.waitForCall(
    (c) => c.path === '/_synapse/mas/provision_user' && (c.body as { localpart?: string; set_avatar_url?: string }).localpart === localpart && !!(c.body as { set_avatar_url?: string }).set_avatar_url,
    20_000,
  );
  const mxc = (call.body as { set_avatar_url: string }).set_avatar_url;
  expect(hs.user(localpart)?.avatarUrl).toBe(mxc);
  return { mxc, media: hs.media(mxc) };
}

async function logLine(reason: string, localpart: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const line = cw.logs.find((l) => l.includes('avatar skipped') && l.includes(`"localpart":"${localpart}"`));
    if (line) {
      expect(JSON.parse(line)).toMatchObject({ reason, localpart });
      return;
    }
    if (Date.now() > deadline) throw new Error(`no "avatar skipped" log line for ${localpart}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(TEST_DBS)('avatars from the IdP, on %s', (db) => {
  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/`;
    oidcPeer = await oidcPeerWithClients({ client_id: `${CLIENT}-${db}`, client_secret: 'avatar-secret', redirect_uris: [`${base}upstream/peer/callback`] });
    const keys = makeSpKeys(dir);
    hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET });
    cw = await startCauseway({
      db,
      port,
      config: {
        matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        upstream: {
          providers: [
            {
              id: 'peer',
              kind: 'oidc',
              name: 'OIDC peer',
              issuer: oidcPeer.url,
              client_id: `${CLIENT}-${db}`,
              client_secret: 'avatar-secret',
              scopes: ['openid', 'profile', 'email'],
              claims: { avatar: { template: '{{ user.picture }}', max_bytes: 16 * 1024 } },
              allow_insecure_http: true,
            },
            {
              id: 'ssp',
              kind: 'saml',
              name: 'SimpleSAMLphp',
              metadata_url: `${samlPeer.url}${IDP_METADATA_PATH}`,
              allow_insecure_http: true,
              sp: { key_file: keys.keyFile, cert_file: keys.certFile, sign_requests: false, encrypted_assertions: 'off' },
              claims: { localpart: { template: 'saml-{{ user.uid }}' }, avatar: { template: '{{ user.jpegPhoto }}', sync: 'always' } },
            },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    unregister.push(registerSp(samlPeer, await (await fetch(`${cw.url}/upstream/ssp/saml/metadata`)).text()));
    clientId = await registerClient(cw.url, webClient('Avatar test app'));
  }, 600_000);

  afterAll(async () => {
    for (const u of unregister.splice(0)) u();
    if (oidcPeer) await removeOidcPeerClients(oidcPeer, `${CLIENT}-${db}`);
    await cw?.dispose();
    await hs?.stop();
    if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
  });

  it('an OIDC picture URL (behind a redirect) is uploaded as the user and set as the avatar', async () => {
    await oidcSignIn(peerUsers.ok);
    const { mxc, media } = await avatarOf(peerUsers.ok);
    expect(mxc).toMatch(/^mxc:\/\/example\.test\/\w+$/);
    expect(media).toMatchObject({ contentType: 'image/png', uploader: `@${peerUsers.ok}:example.test`, filename: 'avatar.png' });
    expect(media!.bytes.equals(TINY_PNG)).toBe(true);
    // The upload came with a token of the user's that the homeserver introspected (not the shared secret).
    const upload = hs.calls.find((c) => c.path === '/_matrix/media/v3/upload')!;
    expect(upload.status).toBe(200);
    expect(upload.authorization).toMatch(/^Bearer mpt_/);
    expect(upload.authorization).not.toContain(SHARED_SECRET);
    // The account existed before: the avatar row follows the provision row.
    const provisions = hs.calls.filter((c) => c.path === '/_synapse/mas/provision_user' && (c.body as { localpart?: string }).localpart === peerUsers.ok);
    expect((provisions[0]!.body as Record<string, unknown>).set_avatar_url).toBeUndefined();
  });

  it('a SAML base64 jpegPhoto is uploaded and set', async () => {
    await samlSignIn('carol', 'carolpass');
    const { media } = await avatarOf('saml-carol');
    expect(media).toMatchObject({ contentType: 'image/jpeg', uploader: '@saml-carol:example.test', filename: 'avatar.jpg' });
    expect(media!.bytes.equals(CAROL_JPEG)).toBe(true);
  });

  it('sync: always (the SAML provider) uploads and sets it again at the next sign-in; first_login (the OIDC one) does not', async () => {
    const before = (await avatarOf('saml-carol')).mxc;
    await samlSignIn('carol', 'carolpass');
    const again = await hs.waitForCall(
      (c) =>
        c.path === '/_synapse/mas/provision_user' &&
        (c.body as { localpart?: string; set_avatar_url?: string }).localpart === 'saml-carol' &&
        !!(c.body as { set_avatar_url?: string }).set_avatar_url &&
        (c.body as { set_avatar_url?: string }).set_avatar_url !== before,
      20_000,
    );
    expect(hs.user('saml-carol')?.avatarUrl).toBe((again.body as { set_avatar_url: string }).set_avatar_url);
    await oidcSignIn(peerUsers.ok);
    // The sign-in wrote its outbox rows before answering: still the one avatar row of the account's creation.
    const db = await CausewayDb.open(cw.database);
    try {
      const rows = await db.ds.manager.find(OutboxEntity, { where: { user_key: peerUsers.ok, kind: 'user.avatar' } });
      expect(rows).toHaveLength(1);
      expect(await db.ds.manager.count(OutboxEntity, { where: { user_key: 'saml-carol', kind: 'user.avatar' } })).toBe(2);
    } finally {
      await db.ds.destroy();
    }
  });

  it('an avatar over max_bytes is skipped with a log line; the sign-in succeeded', async () => {
    await oidcSignIn(peerUsers.big);
    expect(hs.user(peerUsers.big)).toBeDefined();
    await logLine('too_large', peerUsers.big);
    expect(hs.user(peerUsers.big)?.avatarUrl).toBeNull();
  });

  it('a picture that is not an image (whatever its Content-Type says) is skipped with a log line; the sign-in succeeded', async () => {
    await oidcSignIn(peerUsers.text);
    expect(hs.user(peerUsers.text)).toBeDefined();
    await logLine('not_an_image', peerUsers.text);
    expect(hs.user(peerUsers.text)?.avatarUrl).toBeNull();
    // Nothing of either skipped avatar reached the media repository.
    expect([...new Set([...hs.state.media.values()].map((m) => m.uploader))].sort()).toEqual([`@${peerUsers.ok}:example.test`, '@saml-carol:example.test'].sort());
  });

  it('the skips are counted by reason', async () => {
    const text = await (await fetch(`${cw.url}/metrics`)).text();
    expect(text).toMatch(/causeway_avatar_imports_total\{outcome="skipped",reason="too_large"\} 1/);
    expect(text).toMatch(/causeway_avatar_imports_total\{outcome="skipped",reason="not_an_image"\} 1/);
    expect(text).toMatch(/causeway_avatar_imports_total\{outcome="set",reason=""\} 3/);
  });
});
