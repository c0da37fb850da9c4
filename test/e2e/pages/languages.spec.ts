import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium } from '../../support/browser.js';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';

/**
 * Language negotiation in a real browser with JavaScript disabled: `?lang=`, then the footer
 * picker's cookie, then Accept-Language, then `branding.default_language` (Dutch here, so the
 * fallback is visibly not English); the picker is a plain GET form that returns to the page it
 * was on; Arabic pages are right to left.
 */
describe('page languages in headless Chromium without JavaScript', () => {
  let cw: CausewayProcess;
  let browser: Browser;

  beforeAll(async () => {
    cw = await startCauseway({ config: { branding: { default_language: 'nl', service_name: 'Example University' } } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await cw?.dispose();
  });

  const context = (acceptLanguage?: string): Promise<BrowserContext> => browser.newContext({ javaScriptEnabled: false, ...(acceptLanguage ? { extraHTTPHeaders: { 'Accept-Language': acceptLanguage } } : {}) });

  it('Accept-Language picks the page language; without a match, branding.default_language', async () => {
    const ctx = await context('fr-CA,fr;q=0.9,en;q=0.5');
    const page = await ctx.newPage();
    const res = await page.goto(`${cw.url}/`);
    expect(res!.headers()['content-language']).toBe('fr');
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.title()).toBe('Bienvenue · Example University');
    await expect(page.getByRole('link', { name: 'Se connecter' }).isVisible()).resolves.toBe(true);
    await ctx.close();

    const other = await context('ja,zh;q=0.8');
    const p2 = await other.newPage();
    await p2.goto(`${cw.url}/`);
    expect(await p2.getAttribute('html', 'lang')).toBe('nl');
    expect(await p2.textContent('main')).toContain('Log in om de apparaten');
    await other.close();
  });

  it('?lang= wins over the header for that page only', async () => {
    const ctx = await context('fr');
    const page = await ctx.newPage();
    await page.goto(`${cw.url}/?lang=sv`);
    expect(await page.getAttribute('html', 'lang')).toBe('sv');
    expect(await page.textContent('h1')).toBe('Välkommen till Example University');
    expect(await page.textContent('main')).toContain('Logga in');
    expect((await ctx.cookies(cw.url)).map((c) => c.name)).not.toContain('causeway_lang');
    await page.goto(`${cw.url}/`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await ctx.close();
  });

  it('the picker sets a cookie that beats the header, and returns to the page it was on', async () => {
    const ctx = await context('fr');
    const page = await ctx.newPage();
    // A sign-in page: the account page starts a login and lands on /login/{id}.
    await page.goto(`${cw.url}/account/`);
    await page.waitForURL(/\/upstream\/dev\/dev-login|\/login\//);
    const before = page.url();
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await page.getByLabel('Langue').selectOption('de');
    await page.getByRole('button', { name: 'Changer de langue' }).click();
    await page.waitForLoadState();
    expect(page.url()).toBe(before);
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    expect(await page.getByLabel('Sprache').inputValue()).toBe('de');
    const cookie = (await ctx.cookies(cw.url)).find((c) => c.name === 'causeway_lang');
    expect(cookie).toMatchObject({ value: 'de', httpOnly: true, sameSite: 'Lax' });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 300 * 24 * 3600);
    // The cookie outlives the page: the home page is German too, and ?lang= still wins for one page.
    await page.goto(`${cw.url}/`);
    expect(await page.title()).toBe('Willkommen · Example University');
    await page.goto(`${cw.url}/?lang=es`);
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    await ctx.close();
  });

  it('an Arabic page is right to left, its picker still names every language in its own script', async () => {
    const ctx = await context('ar-EG');
    const page = await ctx.newPage();
    await page.goto(`${cw.url}/`);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.getAttribute('html', 'lang')).toBe('ar');
    expect(await page.evaluate('getComputedStyle(document.querySelector("main")).direction')).toBe('rtl');
    expect(await page.title()).toBe('مرحبًا بك · Example University');
    const options = await page.locator('#language-picker option').allTextContents();
    expect(options).toEqual(['English', 'Deutsch', 'Français', 'Español', 'Italiano', 'Nederlands', 'Polski', 'Português (Brasil)', 'Svenska', 'العربية']);
    expect(await page.locator('#language-picker option[lang="ar"]').getAttribute('selected')).not.toBeNull();
    await ctx.close();
  });

  it('the picker never sends the browser off-site, and ignores a language it does not have', async () => {
    for (const back of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const res = await fetch(`${cw.url}/language?lang=de&return=${encodeURIComponent(back)}`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(cw.issuer);
    }
    const unknown = await fetch(`${cw.url}/language?lang=xx&return=account%2F`, { redirect: 'manual' });
    expect(unknown.headers.get('location')).toBe(`${cw.issuer}account/`);
    expect(unknown.headers.getSetCookie()).toEqual([]);
  });
});
