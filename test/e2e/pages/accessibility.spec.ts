import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/config.loader.js';
import { gatewayConfigSchema } from '../../../src/upstream/gateway-config.schema.js';
import { renderPage, preparePages, type PageSetup } from '../../../src/web/page-setup.js';
import { TEMPLATE_SAMPLES } from '../../../src/web/template-samples.js';
import { AXE_MODES as MODES, axeTable, countByImpact, runAxe, seriousLines, type AxeRow } from '../../support/axe.js';
import { launchChromium } from '../../support/browser.js';
import { baseConfig } from '../../support/causeway.js';

/**
 * WCAG 2.2 AA with axe-core in headless Chromium: every page kind Causeway renders (the samples
 * `causeway templates check` uses: picker, dev sign-in, registration, terms, consent for apps and
 * device codes, device code entry, legacy-client and IdP-initiated confirmations, sign-out, every
 * account section, message and error pages, the home page), in light and dark mode at desktop and
 * mobile widths, in English and in Arabic (right to left). No serious or critical violation; the
 * counts are printed.
 */
describe('accessibility (axe-core) of every page kind', () => {
  let browser: Browser;
  let setup: PageSetup;
  let page: Page;

  beforeAll(async () => {
    const config = parseConfig(
      stringify({
        ...baseConfig(8080, { url: 'sqlite://unused.db', drop: async () => {} }),
        branding: { tos_uri: 'https://www.example.org/terms', policy_uri: 'https://www.example.org/privacy', imprint: 'Example University, 1 Campus Road' },
      }),
      gatewayConfigSchema,
    );
    setup = preparePages(config);
    browser = await launchChromium();
    page = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
  });
  afterAll(() => browser?.close());

  it('the sweep can fail: muted text at 2.6:1 is reported (color-contrast, serious)', async () => {
    const light = { ...setup.branding.palette.light, muted: '#9aa0a6' };
    const weak: PageSetup = { ...setup, branding: { ...setup.branding, palette: { ...setup.branding.palette, light } } };
    const sample = TEMPLATE_SAMPLES.find((x) => x.name === 'registration')!;
    await page.setViewportSize(MODES[0].viewport);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setContent(await renderPage(weak, sample.template, sample.vars, { lang: 'en' }));
    const violations = await runAxe(page);
    expect(violations.find((v) => v.id === 'color-contrast')).toMatchObject({ impact: 'serious' });
  });

  for (const lang of ['en', 'ar']) {
    it(`${lang}: 0 serious or critical violations on ${TEMPLATE_SAMPLES.length} page kinds × light/dark × desktop/mobile`, async () => {
      const rows: AxeRow[] = [];
      const serious: string[] = [];
      for (const sample of TEMPLATE_SAMPLES) {
        const html = await renderPage(setup, sample.template, sample.vars, { lang });
        for (const mode of MODES) {
          await page.setViewportSize(mode.viewport);
          await page.emulateMedia({ colorScheme: mode.colorScheme });
          await page.setContent(html);
          const violations = await runAxe(page);
          rows.push({ page: sample.name, mode: mode.name, counts: countByImpact(violations) });
          serious.push(...seriousLines(sample.name, mode.name, violations));
        }
      }
      console.log(axeTable(`axe-core, every page kind, ${lang}`, rows));
      expect(serious).toEqual([]);
    }, 300_000);
  }
});
