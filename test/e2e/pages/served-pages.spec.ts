import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AXE_MODES as MODES, axeTable, countByImpact, runAxe, seriousLines, type AxeMode, type AxeRow } from '../../support/axe.js';
import { launchChromium } from '../../support/browser.js';
import { ROOT, SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { postForm, registerClient } from '../../integration/oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, codeOf, exchange, pkce, webClient } from '../../integration/login/login-flow.js';

/** `npm run screenshots` sets it: the main pages are written to docs/screenshots/ for the README. */
const SCREENSHOTS = process.env.SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : undefined;

/**
 * The served pages, walked in Chromium as a person would (an app's sign-in with the picker, a
 * first sign-up with the username page and the terms, consent, the account page's sections,
 * sign-out, device codes, a legacy client's confirmation, error pages): axe-core on each in light
 * and dark mode at desktop and mobile widths, keyboard focus visible, every field labelled, the
 * provider icons drawn. With SCREENSHOTS=1 (`npm run screenshots`) the main ones are saved.
 */
describe('served pages: accessibility and screenshots', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let clientId: string;
  const rows: AxeRow[] = [];
  const serious: string[] = [];

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        tokens: { device_code_interval: 1 },
        branding: {
          service_name: 'Example University',
          tos_uri: 'https://www.example.org/terms',
          policy_uri: 'https://www.example.org/privacy',
          imprint: 'Example University · 1 Campus Road · Springfield',
        },
        upstream: {
          providers: [
            { id: 'campus', kind: 'dev', name: 'Campus login', brand: 'university', claims: { localpart: { action: 'suggest' } } },
            { id: 'google', kind: 'dev', name: 'Google', brand: 'google' },
            { id: 'dev', kind: 'dev', name: 'Development sign-in' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    clientId = await registerClient(cw.url, webClient('Element'));
    browser = await launchChromium();
    // Scripts on (the pages have none; axe-core needs them), the pages' CSP bypassed for axe only.
    context = await browser.newContext({ bypassCSP: true, extraHTTPHeaders: { 'Accept-Language': 'en' } });
    await context.route(`${CLIENT_URI}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>App</title><p>app</p>' }));
    page = await context.newPage();
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    if (rows.length) console.log(axeTable('axe-core, served pages', rows));
    await browser?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  /** axe in every mode on the page as it stands; screenshots of the named modes. */
  async function check(name: string, shots: Partial<Record<AxeMode, string>> = {}) {
    for (const mode of MODES) {
      await page.setViewportSize(mode.viewport);
      await page.emulateMedia({ colorScheme: mode.colorScheme });
      const violations = await runAxe(page);
      rows.push({ page: name, mode: mode.name, counts: countByImpact(violations) });
      serious.push(...seriousLines(name, mode.name, violations));
      const file = shots[mode.name];
      if (SCREENSHOTS && file) await page.screenshot({ path: join(SCREENSHOTS, file), fullPage: true });
    }
    await page.setViewportSize(MODES[0].viewport);
    await page.emulateMedia({ colorScheme: 'light' });
  }

  const heading = () => page.textContent('h1');

  it('an app’s first sign-in: picker, IdP form, username, terms, consent', async () => {
    await page.goto(`${cw.url}/`);
    await check('home', { 'light desktop': 'home.png' });

    const p = pkce();
    await page.goto(authorizeUrl(cw.url, { clientId, challenge: p.challenge, deviceId: 'SHOTS00001' }));
    expect(await heading()).toBe('Sign in');
    // The brand icons are drawn (SVG paths or monograms), never a glyph a font may lack.
    const icons = await page.locator('ul.providers svg.brand-icon').evaluateAll((els) => els.map((e) => ({ paths: e.querySelectorAll('path').length, text: e.textContent ?? '', width: e.getBoundingClientRect().width })));
    expect(icons).toEqual([
      { paths: 1, text: '', width: 24 },
      { paths: 0, text: 'G', width: 24 },
      { paths: 1, text: '', width: 24 },
    ]);
    await check('sign-in picker', { 'light desktop': 'sign-in.png', 'dark mobile': 'sign-in-dark-mobile.png' });

    await page.getByRole('button', { name: 'Continue with Campus login' }).click();
    await page.waitForURL(/\/dev-login/);
    await check('dev sign-in (the IdP’s form)');
    await page.getByLabel('Username').fill('Alice Example');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();

    expect(await heading()).toBe('Choose your username');
    await page.getByLabel('Username').fill('Alice!');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();
    expect(await page.textContent('[role=alert]')).toContain('lower-case letters');
    await check('registration (refused name)', { 'light desktop': 'registration.png' });
    await page.getByLabel('Username').fill('alice');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();

    expect(await heading()).toBe('Accept the terms of service');
    await check('terms of service', { 'light mobile': 'terms-mobile.png' });
    await page.getByLabel('I have read and accept the terms of service').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();

    expect(await heading()).toBe('Allow access?');
    await check('consent', { 'light desktop': 'consent.png', 'dark desktop': 'consent-dark.png' });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${CLIENT_URI}/**`);
    // The app takes its tokens: the device appears on the account page.
    expect((await exchange(cw.url, clientId, codeOf(page.url()).code!, p.verifier)).status).toBe(200);
  });

  it('keyboard focus is visible on every control, and every field has a label', async () => {
    await page.goto(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, deviceId: 'SHOTS00002', prompt: 'login' }));
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const controls = await page.locator('header a, main a, main button, main input:not([type=hidden]), footer a, footer select, footer button').count();
      const seen: string[] = [];
      // Tab from the top of the (reloaded) page through every control.
      await page.reload();
      for (let i = 0; i < controls; i++) {
        await page.keyboard.press('Tab');
        const ring = (await page.evaluate(`(() => { const e = document.activeElement; const s = getComputedStyle(e);
          return { tag: e.tagName, text: (e.textContent || e.name || '').trim().slice(0, 30), style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor }; })()`)) as {
          tag: string;
          text: string;
          style: string;
          width: number;
          color: string;
        };
        seen.push(`${ring.tag} ${ring.text}`);
        expect(ring.style !== 'none' && ring.width >= 2 ? 'visible' : `${scheme}: ${ring.tag} "${ring.text}" outline ${ring.style} ${ring.width}px`).toBe('visible');
        // The ring is the text colour: 14:1 or more against either background.
        expect(ring.color).toBe(scheme === 'light' ? 'rgb(27, 31, 35)' : 'rgb(230, 237, 243)');
      }
      expect(seen.length).toBeGreaterThanOrEqual(5);
    }
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id || e.name)`);
    expect(unlabelled).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('the account page: devices, a device, signing it out, profile, cross-signing reset, deactivation, sign-out', async () => {
    await page.goto(`${cw.url}/account/`);
    expect(await heading()).toBe('Your account');
    expect(await page.textContent('main')).toContain('SHOTS00001');
    await check('account: devices', { 'light desktop': 'account.png', 'dark desktop': 'account-dark.png' });
    await page.goto(`${cw.url}/account/?action=org.matrix.device_view&device_id=SHOTS00001`);
    expect(await page.textContent('h2')).toBe('Device');
    await check('account: device');
    await page.goto(`${cw.url}/account/?action=org.matrix.device_delete&device_id=SHOTS00001`);
    await check('account: sign out a device');
    await page.goto(`${cw.url}/account/?action=org.matrix.profile`);
    await check('account: profile');
    await page.goto(`${cw.url}/account/?action=org.matrix.cross_signing_reset`);
    await check('account: cross-signing reset');
    await page.goto(`${cw.url}/account/?action=org.matrix.account_deactivate`);
    await check('account: deactivate');
    await page.goto(`${cw.url}/end-session`);
    expect(await heading()).toBe('Sign out?');
    await check('sign-out');
  });

  it('device codes: entry, a wrong code, approval, done', async () => {
    const grant = (await postForm(`${cw.url}/oauth2/device`, { client_id: clientId, scope: 'urn:matrix:client:api:* urn:matrix:client:device:TVDEVICE01' })).json as { user_code: string };
    await page.goto(`${cw.url}/link`);
    await check('device code entry', { 'light mobile': 'device-code-mobile.png' });
    await page.getByLabel('Code').fill('WRONG-CODE');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
    expect(await page.textContent('[role=alert]')).toContain('not valid');
    await check('device code entry (wrong code)');
    await page.getByLabel('Code').fill(grant.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
    expect(await heading()).toBe('Connect a device?');
    await check('device approval', { 'dark mobile': 'device-approval-dark-mobile.png' });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForLoadState();
    expect(await heading()).toBe('Device connected');
    await check('message (device connected)');
  });

  it('a legacy client’s confirmation, error pages, another language', async () => {
    await page.goto(`${cw.url}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent(`${CLIENT_URI}/legacy`)}`);
    expect(await heading()).toBe('Continue to localhost:3000?');
    await check('legacy client confirmation');
    await page.goto(`${cw.url}/authorize?response_type=code`);
    expect(await heading()).toBe('Invalid request');
    await check('error (invalid request)', { 'dark mobile': 'error-dark-mobile.png' });
    await page.goto(`${cw.url}/no/such/page`);
    await check('error (page not found)');
    await page.goto(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, deviceId: 'SHOTS00003', prompt: 'login' }));
    await page.goto(`${page.url()}?lang=ar`);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    await check('sign-in picker (Arabic)', { 'light desktop': 'sign-in-arabic.png' });
    await page.goto(`${cw.url}/?lang=de`);
    await check('home (German)', { 'light mobile': 'home-german-mobile.png' });
  });

  it('no serious or critical violation on any served page (counts printed)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20 * MODES.length);
    expect(serious).toEqual([]);
  });
});
