import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser, forms, textOf, type BrowserResponse } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, withPeerUser } from '../../support/oidc-peer.js';
import type { Peer } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, exchange, onlyForm, pkce, toClient, webClient } from '../login/login-flow.js';

/**
 * Account linking at sign-in (provider `on_conflict`, MAS's meanings), through real sign-ins:
 * `replace` moves a provider's link to the identity's new subject (an IdP re-keying its users),
 * `set` links only when the account has no link of that provider, and `confirm` links only after
 * the person signed in again with a method already linked to the account — here the real OIDC
 * peer (alice, bob), as Keycloak's first-broker-login re-authentication.
 */

const RUN = randomBytes(4).toString('hex');
const PEER_CLIENT = `causeway-linking-${RUN}`;
const PEER_SECRET = randomBytes(16).toString('hex');

let peer: Peer;
beforeAll(async () => {
  peer = await oidcPeerWithClients({ client_id: PEER_CLIENT, client_secret: PEER_SECRET, redirect_uris: ['http://127.0.0.1:9/unused'] });
}, 120_000);
afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, PEER_CLIENT);
});

describe.each(TEST_DBS)('on_conflict at sign-in on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let data: CausewayDb;
  let clientId: string;

  beforeAll(async () => {
    const port = await freePort();
    await oidcPeerWithClients({ client_id: PEER_CLIENT, client_secret: PEER_SECRET, redirect_uris: [`http://127.0.0.1:${port}/upstream/peer/callback`] });
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      db,
      port,
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        upstream: {
          providers: [
            { id: 'peer', kind: 'oidc', name: 'Example IdP', issuer: peer.url, client_id: PEER_CLIENT, client_secret: PEER_SECRET, allow_insecure_http: true, scopes: ['openid', 'profile', 'email'] },
            // The IdP's stable id is the display-name field of the dev form, the username its login name.
            { id: 'rekey', kind: 'dev', name: 'Re-keyed IdP', on_conflict: 'replace', claims: { subject: '{{ user.displayName }}' } },
            { id: 'settle', kind: 'dev', name: 'Second IdP', on_conflict: 'set', claims: { subject: '{{ user.displayName }}' } },
            { id: 'newidp', kind: 'dev', name: 'New IdP', on_conflict: 'confirm' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    data = await CausewayDb.open(cw.database);
    clientId = await registerClient(cw.url, webClient('Linking app'));
  }, 120_000);

  afterAll(async () => {
    await data?.close();
    await cw?.dispose();
    await hs?.stop();
    if (cw) expect(cw.logs.filter((l) => l.includes('"status":500'))).toEqual([]);
  });

  /** `?` placeholders, numbered for PostgreSQL. */
  const q = (sql: string) => {
    let n = 0;
    return db === 'postgres' ? sql.replace(/\?/g, () => `$${++n}`) : sql;
  };
  async function linksOf(localpart: string): Promise<{ provider_id: string; subject: string }[]> {
    return (await data.ds.query(q('SELECT l.provider_id, l.subject FROM upstream_links l JOIN users u ON u.id = l.user_id WHERE u.localpart = ? ORDER BY l.provider_id, l.subject'), [localpart])) as {
      provider_id: string;
      subject: string;
    }[];
  }

  /** /authorize with `?provider=`, the dev form if shown, consent; returns the last response and the PKCE verifier. */
  async function authorize(provider: string, browser = new Browser()) {
    const p = pkce();
    const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, deviceId: `D${randomBytes(4).toString('hex')}`, extra: { provider } }), {}, toClient);
    return { browser, res, verifier: p.verifier };
  }
  async function devForm(browser: Browser, res: BrowserResponse, username: string, displayName = '') {
    return browser.submit(
      onlyForm(res, (f) => 'username' in f.fields),
      { username, displayName },
      toClient,
    );
  }
  async function finish(browser: Browser, res: BrowserResponse & { stoppedAt?: string }, verifier: string): Promise<string> {
    const done = res.stoppedAt ? res : await decide(browser, res, 'allow');
    const tokens = await exchange(cw.url, clientId, codeOf(done.stoppedAt!).code!, verifier);
    expect(tokens.status).toBe(200);
    const who = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } });
    return ((await who.json()) as { user_id: string }).user_id;
  }
  async function devSignIn(provider: string, username: string, displayName = ''): Promise<string> {
    const { browser, res, verifier } = await authorize(provider);
    return finish(browser, await devForm(browser, res, username, displayName), verifier);
  }

  it('replace: the IdP re-keyed its users; the account keeps one link of that provider, on the new subject', async () => {
    expect(await devSignIn('rekey', 'rekeyed', 'old-guid')).toBe(`@rekeyed:${hs.serverName}`);
    expect(await linksOf('rekeyed')).toEqual([{ provider_id: 'rekey', subject: 'old-guid' }]);
    expect(await devSignIn('rekey', 'rekeyed', 'new-guid')).toBe(`@rekeyed:${hs.serverName}`);
    expect(await linksOf('rekeyed')).toEqual([{ provider_id: 'rekey', subject: 'new-guid' }]);
    const audit = (await data.ds.query(q("SELECT action, actor FROM audit_log WHERE action LIKE 'upstream_link.%' AND details LIKE ? ORDER BY id"), ['%on_conflict:replace%'])) as { action: string; actor: string }[];
    expect(audit).toEqual([
      { action: 'upstream_link.remove', actor: 'upstream:rekey' },
      { action: 'upstream_link.add', actor: 'upstream:rekey' },
    ]);
  });

  it('set: links to an account without a link of that provider, refuses one that has one', async () => {
    await data.createUser('settled');
    expect(await devSignIn('settle', 'settled', 'guid-1')).toBe(`@settled:${hs.serverName}`);
    expect(await linksOf('settled')).toEqual([{ provider_id: 'settle', subject: 'guid-1' }]);
    // Another identity of the same provider claiming the same username: refused, nothing changes.
    const { browser, res } = await authorize('settle');
    const refused = await devForm(browser, res, 'settled', 'guid-2');
    expect(refused.status).toBe(409);
    expect(textOf(refused.body)).toContain('Account already exists');
    expect(await linksOf('settled')).toEqual([{ provider_id: 'settle', subject: 'guid-1' }]);
  });

  it('confirm: links only after the person signs in again with the method already linked (the real OIDC peer)', async () => {
    // alice's account exists through the IdP.
    await withPeerUser(peer, 'alice', async () => {
      const { browser, res, verifier } = await authorize('peer');
      const signedIn = await browser.submit(
        onlyForm(res, (f) => 'password' in f.fields),
        { username: 'alice', password: 'alicepass' },
        toClient,
      );
      expect(await finish(browser, signedIn, verifier)).toBe(`@alice:${hs.serverName}`);
    });
    expect(await linksOf('alice')).toEqual([{ provider_id: 'peer', subject: 'alice' }]);

    // The new IdP says "alice": the page asks for the current method; nothing is linked yet.
    const start = await authorize('newidp');
    const ask = await devForm(start.browser, start.res, 'alice');
    expect(ask.status).toBe(200);
    const text = textOf(ask.body);
    expect(text).toContain('This username already exists');
    expect(text).toContain(`@alice:${hs.serverName}`);
    expect(forms(ask.body, ask.url).flatMap((f) => Object.values(f.buttons))).toEqual(['peer']);
    expect(await linksOf('alice')).toEqual([{ provider_id: 'peer', subject: 'alice' }]);

    // Someone else's IdP account does not confirm it.
    await withPeerUser(peer, 'bob', async () => {
      const atIdp = await start.browser.submit(
        onlyForm(ask, (f) => f.action.endsWith('/provider')),
        { provider: 'peer' },
        toClient,
      );
      const back = await start.browser.submit(
        onlyForm(atIdp, (f) => 'password' in f.fields),
        { username: 'bob', password: 'bobpass' },
        toClient,
      );
      expect(back.status).toBe(403);
      expect(textOf(back.body)).toContain('does not belong to the account with this username');
    });
    expect(await linksOf('alice')).toEqual([{ provider_id: 'peer', subject: 'alice' }]);

    // alice herself: a fresh sign-in at the IdP (prompt=login), then linked and signed in.
    await withPeerUser(peer, 'alice', async () => {
      const again = await authorize('newidp');
      const page = await devForm(again.browser, again.res, 'alice');
      const atIdp = await again.browser.submit(
        onlyForm(page, (f) => f.action.endsWith('/provider')),
        { provider: 'peer' },
        toClient,
      );
      expect(atIdp.url.startsWith(peer.url)).toBe(true);
      const back = await again.browser.submit(
        onlyForm(atIdp, (f) => 'password' in f.fields),
        { username: 'alice', password: 'alicepass' },
        toClient,
      );
      expect(await finish(again.browser, back, again.verifier)).toBe(`@alice:${hs.serverName}`);
    });
    expect(await linksOf('alice')).toEqual([
      { provider_id: 'newidp', subject: 'alice' },
      { provider_id: 'peer', subject: 'alice' },
    ]);
    // From now on the new IdP signs alice in directly.
    expect(await devSignIn('newidp', 'alice')).toBe(`@alice:${hs.serverName}`);
  });
});
