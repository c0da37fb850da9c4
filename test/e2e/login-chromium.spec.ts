import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { registerClient } from '../integration/oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, codeOf, exchange, pkce, webClient } from '../integration/login/login-flow.js';

/**
 * A real browser (headless Chromium) with JavaScript disabled clicks through the provider picker,
 * the dev sign-in and the consent page: the pages work as plain HTML forms and links.
 */
describe('login pages in headless Chromium without JavaScript', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let browser: Browser;
  let clientId: string;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      db: 'sqlite',
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Development sign-in' },
            { id: 'corp', kind: 'dev', name: 'Corporate login', brand: 'microsoft' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    clientId = await registerClient(cw.url, webClient('Chromium test app'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  it('picker → dev sign-in → consent → back to the app with a code that works', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    // The app's redirect URI: answer it here instead of a real app.
    await page.route(`${CLIENT_URI}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'app' }));
    const p = pkce();
    await page.goto(authorizeUrl(cw.url, { clientId, challenge: p.challenge, state: 'chromium-state', deviceId: 'CHROMIUM01' }));

    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    // Accessible names come from the text (the brand icons are aria-hidden), in YAML order.
    expect(await page.getByRole('button', { name: /^Continue with/ }).count()).toBe(2);
    expect(await page.locator('ul.providers button span').allTextContents()).toEqual(['Continue with Development sign-in', 'Continue with Corporate login']);
    expect(await page.getByRole('button', { name: 'Continue with Corporate login', exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: 'Continue with Corporate login' }).click();

    await page.waitForURL(/\/upstream\/corp\/dev-login/);
    await page.getByLabel('Username').fill('chromium-user');
    await page.getByLabel('Display name (optional)').fill('Chromium User');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(/\/login\/[0-9A-Z]{26}$/);
    await expect(page.getByRole('heading', { name: 'Allow access?' }).isVisible()).resolves.toBe(true);
    expect(await page.textContent('main')).toContain('Chromium test app');
    expect(await page.textContent('main')).toContain('CHROMIUM01');
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${CLIENT_URI}/**`);
    const back = codeOf(page.url());
    expect(back.state).toBe('chromium-state');
    expect(back.code).toBeTruthy();
    const cookies = await context.cookies(cw.url);
    for (const c of cookies.filter((c) => c.name.startsWith('causeway_'))) {
      expect(c.httpOnly).toBe(true);
      expect(c.sameSite).toBe('Lax');
    }
    await context.close();

    const tokens = await exchange(cw.url, clientId, back.code!, p.verifier);
    expect(tokens.status).toBe(200);
    const me = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } });
    expect(await me.json()).toEqual(expect.objectContaining({ user_id: '@chromium-user:example.test', device_id: 'CHROMIUM01' }));
  });
});
