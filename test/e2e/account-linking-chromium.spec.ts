import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, withPeerUser } from '../support/oidc-peer.js';
import type { Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { registerClient } from '../integration/oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, codeOf, exchange, pkce, webClient } from '../integration/login/login-flow.js';

/**
 * The account page's sign-in methods in headless Chromium (no JavaScript): someone signed in with
 * the dev sign-in adds the real OIDC peer (alice) as a second method, then signs in to the same
 * account with either; removes the peer again; the peer identity no longer reaches the account.
 */
const RUN = randomBytes(4).toString('hex');
const PEER_CLIENT = `causeway-account-linking-${RUN}`;
const PEER_SECRET = randomBytes(16).toString('hex');

describe('adding and removing a sign-in method on the account page (Chromium)', () => {
  let peer: Peer;
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let browser: Browser;
  let clientId: string;
  let owner: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const port = await freePort();
    peer = await oidcPeerWithClients({ client_id: PEER_CLIENT, client_secret: PEER_SECRET, redirect_uris: [`http://127.0.0.1:${port}/upstream/peer/callback`] });
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      db: 'sqlite',
      port,
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Development sign-in' },
            { id: 'peer', kind: 'oidc', name: 'Example IdP', issuer: peer.url, client_id: PEER_CLIENT, client_secret: PEER_SECRET, allow_insecure_http: true, scopes: ['openid', 'profile', 'email'] },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    clientId = await registerClient(cw.url, webClient('Linking app'));
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    owner = await browser.newContext({ javaScriptEnabled: false });
    page = await owner.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (peer) await removeOidcPeerClients(peer, PEER_CLIENT);
    await cw?.dispose();
    await hs?.stop();
  });

  const profile = () => page.goto(`${cw.url}/account/?action=org.matrix.profile`);
  const methods = async (p: Page) => (await p.locator('ul.sessions li strong').allTextContents()).sort();

  /** A client's sign-in in a fresh browser with the peer (alice) or the dev form; returns the Matrix user id. */
  async function signInWith(provider: 'peer' | 'dev', username: string): Promise<string> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const p = await context.newPage();
    await p.route(`${CLIENT_URI}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'app' }));
    const challenge = pkce();
    await p.goto(authorizeUrl(cw.url, { clientId, challenge: challenge.challenge, deviceId: `C${randomBytes(4).toString('hex').toUpperCase()}`, extra: { provider } }));
    if (provider === 'peer') {
      await p.locator('input[name=username]').fill(username);
      await p.locator('input[name=password]').fill(`${username}pass`);
    } else {
      await p.getByLabel('Username').fill(username);
    }
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL((u) => u.href.startsWith(CLIENT_URI) || /\/login\/[0-9A-Z]{26}$/.test(u.href));
    if (!p.url().startsWith(CLIENT_URI)) {
      await p.getByRole('button', { name: 'Allow' }).click();
      await p.waitForURL(`${CLIENT_URI}/**`);
    }
    const tokens = await exchange(cw.url, clientId, codeOf(p.url()).code!, challenge.verifier);
    await context.close();
    const me = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } });
    return ((await me.json()) as { user_id: string }).user_id;
  }

  it('signs in on the account page with the dev sign-in', async () => {
    await page.goto(`${cw.url}/account/`);
    await page.getByRole('button', { name: 'Continue with Development sign-in' }).click();
    await page.getByLabel('Username').fill('linker');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${cw.url}/account/**`);
    await profile();
    expect(await methods(page)).toEqual(['Development sign-in']);
    // The only method cannot be removed.
    expect(await page.getByRole('link', { name: /^Remove/ }).count()).toBe(0);
  });

  it('adds the OIDC peer as a second method after a fresh sign-in there; both then reach the account', async () => {
    await withPeerUser(peer, 'alice', async () => {
      await profile();
      await page.getByRole('button', { name: 'Add Example IdP' }).click();
      await page.waitForURL((u) => u.href.startsWith(peer.url));
      await page.locator('input[name=username]').fill('alice');
      await page.locator('input[name=password]').fill('alicepass');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/action=org\.matrix\.profile.*done=linked/);
      expect(await page.textContent('main')).toContain('The sign-in method was added');
      expect(await methods(page)).toEqual(['Development sign-in', 'Example IdP']);
      expect(await signInWith('peer', 'alice')).toBe(`@linker:${hs.serverName}`);
    });
    expect(await signInWith('dev', 'linker')).toBe(`@linker:${hs.serverName}`);
  });

  it('refuses to add an identity that already belongs to another account', async () => {
    const other = await browser.newContext({ javaScriptEnabled: false });
    const p = await other.newPage();
    await p.goto(`${cw.url}/account/`);
    await p.getByRole('button', { name: 'Continue with Development sign-in' }).click();
    await p.getByLabel('Username').fill('someoneelse');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(`${cw.url}/account/**`);
    await p.goto(`${cw.url}/account/?action=org.matrix.profile`);
    await withPeerUser(peer, 'alice', async () => {
      await p.getByRole('button', { name: 'Add Example IdP' }).click();
      await p.locator('input[name=username]').fill('alice');
      await p.locator('input[name=password]').fill('alicepass');
      await p.getByRole('button', { name: 'Sign in' }).click();
      // The refusal page is the answer to the IdP's redirect back to Causeway.
      await p.waitForURL((u) => u.href.startsWith(cw.url));
    });
    expect(await p.textContent('main')).toContain('already the sign-in method of another account');
    await p.goto(`${cw.url}/account/?action=org.matrix.profile`);
    expect(await methods(p)).toEqual(['Development sign-in']);
    await other.close();
  });

  it('removes the peer after confirming; its identity no longer reaches the account', async () => {
    await profile();
    await page.getByRole('link', { name: 'Remove Example IdP' }).click();
    await expect(page.getByRole('heading', { name: 'Remove Example IdP?' }).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Remove Example IdP' }).click();
    await page.waitForURL(/done=removed/);
    expect(await page.textContent('main')).toContain('The sign-in method was removed');
    expect(await methods(page)).toEqual(['Development sign-in']);
    expect(await page.getByRole('link', { name: /^Remove/ }).count()).toBe(0);
    // alice's IdP identity is a stranger again: a new account (registration is open).
    await withPeerUser(peer, 'alice', async () => {
      expect(await signInWith('peer', 'alice')).toBe(`@alice:${hs.serverName}`);
    });
  });
});
