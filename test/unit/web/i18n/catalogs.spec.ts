import { readdirSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { compareCatalogs, pluralProblems } from '../../../../src/web/i18n/catalog.js';
import { CATALOG_DIR, formatProblem, loadCatalogs } from '../../../../src/web/i18n/catalog-loader.js';
import { SHIPPED_LANGUAGES } from '../../../../src/config/languages.js';

/**
 * Every shipped catalog against the English one: the same keys (none missing, none extra), the
 * same placeholders and tags in every message, every plural category the language needs, and no
 * English left standing in for a translation.
 */
const loaded = loadCatalogs();
const en = loaded.catalogs.get('en')!;

describe('shipped catalogs', () => {
  it('load without a problem, one file per shipped language', () => {
    expect(loaded.errors.map(formatProblem)).toEqual([]);
    const files = readdirSync(CATALOG_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
    expect(files).toEqual(SHIPPED_LANGUAGES.map((l) => l.tag).sort());
  });

  it('include the required languages, one of them right-to-left', () => {
    expect(SHIPPED_LANGUAGES.map((l) => l.tag)).toEqual(expect.arrayContaining(['en', 'de', 'fr', 'es', 'it', 'nl', 'pl', 'pt-BR', 'sv', 'ar']));
    expect(SHIPPED_LANGUAGES.filter((l) => l.dir === 'rtl').map((l) => l.tag)).toEqual(['ar']);
  });

  describe.each(SHIPPED_LANGUAGES.filter((l) => l.tag !== 'en').map((l) => [l.tag]))('%s', (tag) => {
    const catalog = loaded.catalogs.get(tag)!;

    it('has exactly the English keys, with the same placeholders and tags', () => {
      expect(compareCatalogs(en, catalog).map((p) => `${p.key}: ${p.message}`)).toEqual([]);
    });

    it('has every plural category the language needs', () => {
      expect(pluralProblems(tag, catalog).map((p) => `${p.key}: ${p.message}`)).toEqual([]);
    });

    it('is a translation: no English sentence left in, no placeholder text', () => {
      const english = [...catalog].filter(([key, m]) => {
        const source = JSON.stringify(en.get(key)!.text);
        return source.length > 40 && JSON.stringify(m.text) === source;
      });
      expect(english.map(([key]) => key)).toEqual([]);
      const placeholders = [...catalog].filter(([, m]) => /\b(TODO|TBD|FIXME|XXX)\b|[Ll]orem ipsum/.test(JSON.stringify(m.text)));
      expect(placeholders.map(([key]) => key)).toEqual([]);
    });
  });
});
