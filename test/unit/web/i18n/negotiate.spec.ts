import { describe, expect, it } from '@jest/globals';
import { acceptLanguages, matchLanguage, negotiateLanguage } from '../../../../src/web/i18n/negotiate.js';

const available = ['en', 'de', 'fr', 'pt-BR', 'ar'];

describe('language negotiation', () => {
  it('reads Accept-Language by quality, keeping header order on ties, ignoring q=0 and *', () => {
    expect(acceptLanguages('fr;q=0.5, de-AT, *;q=0.1, en;q=0, nl;q=0.5')).toEqual(['de-AT', 'fr', 'nl']);
    expect(acceptLanguages(undefined)).toEqual([]);
    expect(acceptLanguages(',,;q=abc')).toEqual([]);
  });

  it('matches by RFC 4647 lookup, then a bare language to its one regional catalog', () => {
    expect(matchLanguage('de-AT', available)).toBe('de');
    expect(matchLanguage('DE', available)).toBe('de');
    expect(matchLanguage('pt', available)).toBe('pt-BR');
    expect(matchLanguage('pt-PT', available)).toBe('pt-BR');
    expect(matchLanguage('pt-br', available)).toBe('pt-BR');
    expect(matchLanguage('zh-Hant-TW', available)).toBeUndefined();
    expect(matchLanguage('en', ['en-GB', 'en-US'])).toBeUndefined();
  });

  it('query, then cookie, then header, then the default', () => {
    const header = 'fr-CA,fr;q=0.9';
    expect(negotiateLanguage({ query: 'ar', cookie: 'de', acceptLanguage: header }, available, 'en')).toEqual({ tag: 'ar', source: 'query' });
    expect(negotiateLanguage({ query: 'xx', cookie: 'de', acceptLanguage: header }, available, 'en')).toEqual({ tag: 'de', source: 'cookie' });
    expect(negotiateLanguage({ cookie: 'garbage!', acceptLanguage: header }, available, 'en')).toEqual({ tag: 'fr', source: 'header' });
    expect(negotiateLanguage({ acceptLanguage: 'ja, zh;q=0.8' }, available, 'de')).toEqual({ tag: 'de', source: 'default' });
    expect(negotiateLanguage({}, available, 'en')).toEqual({ tag: 'en', source: 'default' });
  });
});
