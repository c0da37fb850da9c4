import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../support/browser.js';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';

const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40"><rect width="120" height="40" fill="#7a0019"/><text x="8" y="27" fill="#fff" font-size="18">EU</text></svg>';
const branding = (version: string) => ({
  service_name: 'Example University',
  primary_color: '#7a0019',
  tos_uri: 'https://www.example.org/terms',
  tos_version: version,
  policy_uri: 'https://www.example.org/privacy',
  imprint: 'Example University, 1 Campus Road, Springfield',
});

/**
 * Branding in a real browser (JavaScript off): the operator's name, logo, favicon, colour, legal
 * links and imprint on the pages; the terms of service asked at the first sign-up, recorded with
 * their version, not asked again, and asked again once `tos_version` changes.
 */
describe('branding and terms of service in headless Chromium', () => {
  let cw: CausewayProcess;
  let browser: Browser;

  beforeAll(async () => {
    cw = await startCauseway({ config: { matrix: { api: 'none' }, branding: branding('2026-01') } });
    writeFileSync(join(cw.dir, 'logo.svg'), LOGO);
    writeFileSync(join(cw.dir, 'favicon.svg'), LOGO);
    // Files are read at start-up: restart with them in place (same database and keys).
    await cw.stop();
    cw = await startCauseway({ dir: cw.dir, database: cw.database, config: { matrix: { api: 'none' }, branding: { ...branding('2026-01'), logo_file: 'logo.svg', favicon_file: 'favicon.svg' } } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await cw?.dispose();
  });

  const page = async (): Promise<Page> => (await browser.newContext({ javaScriptEnabled: false })).newPage();

  /** Home → Sign in → the dev sign-in form → as `username`; returns where the browser landed. */
  async function signIn(p: Page, username: string): Promise<void> {
    await p.goto(`${cw.url}/`);
    await p.getByRole('link', { name: 'Sign in' }).click();
    await p.waitForURL(/\/dev-login/);
    await p.getByLabel('Username').fill(username);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForLoadState();
  }

  it('shows the name, logo, favicon, colour, legal links and imprint', async () => {
    const p = await page();
    await p.goto(`${cw.url}/`);
    expect(await p.title()).toBe('Welcome · Example University');
    expect(await p.textContent('header')).toContain('Example University');
    const logo = await p.getAttribute('header img', 'src');
    expect(logo).toMatch(/\/branding\/logo\?v=[\w-]{12}$/);
    expect(await p.evaluate('document.querySelector("header img").naturalWidth')).toBe(120);
    const res = await fetch(logo!);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toBe(LOGO);
    expect(await p.getAttribute('link[rel=icon]', 'href')).toMatch(/\/branding\/favicon\?v=/);
    expect((await fetch(`${cw.url}/favicon.ico`)).headers.get('content-type')).toBe('image/svg+xml');
    // The brand colour on the main button (dark enough for white text, so used as given).
    expect(await p.evaluate('getComputedStyle(document.querySelector("main a.button")).backgroundColor')).toBe('rgb(122, 0, 25)');
    expect(await p.getByRole('link', { name: 'Terms of service' }).getAttribute('href')).toBe('https://www.example.org/terms');
    expect(await p.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe('https://www.example.org/privacy');
    expect(await p.textContent('footer')).toContain('Example University, 1 Campus Road, Springfield');
    await p.context().close();
  });

  it('asks a new account to accept the terms once (the box must be ticked), then never again', async () => {
    const p = await page();
    await signIn(p, 'tina');
    expect(await p.textContent('h1')).toBe('Accept the terms of service');
    expect(await p.locator('main').getByRole('link', { name: 'terms of service' }).getAttribute('href')).toBe('https://www.example.org/terms');
    const termsUrl = p.url();
    // The browser's own form validation (no script) keeps an unticked box from being sent.
    await p.getByRole('button', { name: 'Continue' }).click();
    expect(p.url()).toBe(termsUrl);
    await p.getByLabel('I have read and accept the terms of service').check();
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.waitForURL(/\/account\/?$/);
    expect(await p.textContent('main')).toContain('@tina:example.test');
    await p.context().close();

    // A new browser, the same account: signed straight in.
    const again = await page();
    await signIn(again, 'tina');
    await again.waitForURL(/\/account\/?$/);
    expect(await again.textContent('main')).toContain('@tina:example.test');
    await again.context().close();
  });

  it('Cancel on the terms page signs nobody in', async () => {
    const p = await page();
    await signIn(p, 'ulla');
    expect(await p.textContent('h1')).toBe('Accept the terms of service');
    await p.getByRole('button', { name: 'Cancel' }).click();
    await p.waitForLoadState();
    expect(await p.textContent('h1')).toBe('Cancelled');
    await p.goto(`${cw.url}/`);
    await expect(p.getByRole('link', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await p.context().close();
  });

  it('a new tos_version asks again at the next sign-in, saying the terms changed', async () => {
    await cw.stop();
    cw = await startCauseway({ dir: cw.dir, database: cw.database, config: { matrix: { api: 'none' }, branding: { ...branding('2026-06'), logo_file: 'logo.svg' } } });
    const p = await page();
    await signIn(p, 'tina');
    expect(await p.textContent('h1')).toBe('Accept the terms of service');
    expect(await p.textContent('main')).toContain('have changed since you last accepted them');
    await p.getByLabel('I have read and accept the terms of service').check();
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.waitForURL(/\/account\/?$/);
    await p.context().close();

    const next = await page();
    await signIn(next, 'tina');
    await next.waitForURL(/\/account\/?$/);
    await next.context().close();
  });
});
