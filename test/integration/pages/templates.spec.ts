import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { baseConfig, runCli, startCauseway, type CausewayProcess } from '../../support/causeway.js';

/**
 * Operators' templates (`templates.path`) and catalogs (`templates.translations_path`):
 * `causeway templates check` renders every page in every language; a broken override or catalog
 * stops `causeway serve` before it listens, naming the file and line (or key); a good one is used.
 */
describe('template overrides and operator catalogs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-templates-'));
  const config = (extra: Record<string, unknown>): string => {
    const file = join(dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
    const c = { ...baseConfig(0, { url: `sqlite://${join(dir, 'db.sqlite')}`, drop: async () => {} }), ...extra };
    writeFileSync(file, stringify(c));
    return file;
  };
  const folder = (name: string, files: Record<string, string>): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
    return d;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('`templates check` renders every shipped page in every shipped language', async () => {
    const r = await runCli(['templates', 'check', '--config', config({})]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^templates: ok \((\d+) page\(s\) rendered in 10 language\(s\)\)\n$/);
    expect(Number(/\((\d+) page/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(25 * 10);
    expect(r.code).toBe(0);
  });

  const broken = () =>
    folder('broken', {
      'home.liquid': '{% layout "layout" %}\n{% block content %}\n<h1>{{ "home.heading" | t }}</h1>\n{% if user_id %}<p>signed in</p>\n{% endblock %}\n',
      'consent.liquid': '{% layout "layout" %}\n{% block content %}\n\n<p>{{ "consent.allow_all" | t }}</p>\n{% endblock %}\n',
    });

  it('`templates check` names the file and line of each broken override, and exits 1', async () => {
    const r = await runCli(['templates', 'check', '--config', config({ templates: { path: broken() } })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^2 problem\(s\)/);
    // The unclosed `if` (line 4) swallows the `endblock` LiquidJS then misses: it names line 5.
    expect(r.stderr).toContain(`tag "endblock" not found, file:${join(dir, 'broken', 'home.liquid')}, line:5`);
    expect(r.stderr).toContain(`unknown message "consent.allow_all", file:${join(dir, 'broken', 'consent.liquid')}, line:4, col:4 (page "consent", language en`);
  });

  it('`causeway serve` refuses to start with a broken override, naming file and line, before it listens', async () => {
    const r = await runCli(['serve', '--config', config({ templates: { path: broken() } })]);
    expect(r.code).toBe(1);
    const fatal = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 'fatal');
    expect(fatal.msg).toBe('start-up failed');
    expect(fatal.err.message).toContain(`file:${join(dir, 'broken', 'home.liquid')}, line:5`);
    expect(fatal.err.message).toContain('unknown message "consent.allow_all"');
    expect(r.stdout).not.toContain('causeway is listening');
  });

  it('`causeway serve` refuses an operator catalog with a misspelt key or a broken placeholder, naming file and key', async () => {
    const translations = folder('bad-catalogs', {
      'de.json': JSON.stringify({ home: { intro: 'Hallo {nutzer}' }, picker: { chose: 'Wählen' } }),
    });
    const r = await runCli(['templates', 'check', '--config', config({ templates: { translations_path: translations } })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(translations, 'de.json')}: picker.chose: not a message of the English catalog`);
    expect(r.stderr).toContain(`${join(translations, 'de.json')}: home.intro: placeholders differ from English`);
  });

  describe('a good override and operator catalogs are used', () => {
    let cw: CausewayProcess;
    beforeAll(async () => {
      const templates = folder('good', {
        // Only the layout: every page gets the banner, the shipped page templates stay.
        'layout.liquid':
          '<!doctype html><html lang="{{ site.lang }}" dir="{{ site.dir }}"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title></head><body><p class="banner">Example University IT</p><main>{% block content %}{% endblock %}</main></body></html>',
      });
      const translations = folder('catalogs', {
        'de.json': JSON.stringify({ home: { intro: 'Melden Sie sich mit Ihrer Hochschulkennung an.' } }),
        'ja.json': JSON.stringify({ home: { title: 'ようこそ', heading: '{service}へようこそ' } }),
      });
      cw = await startCauseway({ config: { templates: { path: templates, translations_path: translations } } });
    });
    afterAll(() => cw?.dispose());

    it('the override layout wraps the shipped pages', async () => {
      const html = await (await fetch(`${cw.url}/`)).text();
      expect(html).toContain('<p class="banner">Example University IT</p>');
      expect(html).toContain('<h1>Welcome to Causeway</h1>');
      expect(html).not.toContain('language-picker');
      expect(cw.logs.some((l) => l.includes('template override checked'))).toBe(true);
    });

    it('an operator message replaces the shipped one; a new language falls back to English for what it leaves out', async () => {
      expect(await (await fetch(`${cw.url}/?lang=de`)).text()).toContain('Melden Sie sich mit Ihrer Hochschulkennung an.');
      const ja = await (await fetch(`${cw.url}/?lang=ja`)).text();
      expect(ja).toContain('<html lang="ja" dir="ltr">');
      expect(ja).toContain('<title>ようこそ</title>');
      expect(ja).toContain('<h1>Causewayへようこそ</h1>');
      expect(ja).toContain('Sign in to see the devices');
      expect(cw.logs.some((l) => l.includes('ja.json') && l.includes('not translated: shown in English'))).toBe(true);
    });
  });
});
