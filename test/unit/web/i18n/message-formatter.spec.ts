import { describe, expect, it } from '@jest/globals';
import { compareCatalogs, compileCatalog, compileMessage, flattenCatalog, pluralProblems, type CatalogProblem } from '../../../../src/web/i18n/catalog.js';
import { MessageFormatter, UnknownMessageError } from '../../../../src/web/i18n/translator.js';
import type { Msg } from '../../../../src/web/i18n/message.js';

function catalog(tree: unknown) {
  const problems: CatalogProblem[] = [];
  const c = compileCatalog(flattenCatalog(tree, problems), problems);
  return { c, problems };
}

const en = catalog({
  hello: 'Hello {name}',
  rich: '<strong>{client}</strong> asks for <code>{scope}</code>. Read the <tos>terms</tos> & more.',
  count: '{n, plural, one {# device} other {# devices}}',
  nested: 'Failed: {reason}',
  reason: 'the attribute “{attribute}” is missing',
}).c;
const ar = catalog({
  hello: 'مرحبا {name}',
  count: '{n, plural, zero {لا أجهزة} one {جهاز واحد} two {جهازان} few {# أجهزة} many {# جهازًا} other {# جهاز}}',
}).c;
const languages = [
  { tag: 'en', name: 'English', dir: 'ltr' as const },
  { tag: 'ar', name: 'العربية', dir: 'rtl' as const },
];
const f = new MessageFormatter(
  languages,
  new Map([
    ['en', en],
    ['ar', ar],
  ]),
  { service: 'Causeway' },
);
const m = (key: string, params?: Msg['params']) => ({ key, params }) as Msg;

describe('message formatting', () => {
  it('escapes placeholder values and the catalog text; only <strong>, <em>, <code> and parameter links are markup', () => {
    const html = f.html('en', m('rich', { client: '<img src=x onerror=alert(1)>', scope: 'a"b', tos: 'https://example.com/tos?a=1&b=2' }));
    expect(html).toBe('<strong>&#60;img src=x onerror=alert(1)&#62;</strong> asks for <code>a&#34;b</code>. Read the <a href="https://example.com/tos?a=1&#38;b=2">terms</a> &#38; more.');
    // A link whose address is not http(s) is just words.
    expect(f.html('en', m('rich', { client: 'c', scope: 's', tos: 'javascript:alert(1)' }))).toContain('Read the terms &#38; more');
    expect(f.text('en', m('rich', { client: '<c>', scope: 's', tos: 'https://x' }))).toBe('<c> asks for s. Read the terms & more.');
  });

  it('formats ICU plurals with the language’s categories', () => {
    expect(f.text('en', m('count', { n: 1 }))).toBe('1 device');
    expect(f.text('en', m('count', { n: 3 }))).toBe('3 devices');
    expect(f.text('ar', m('count', { n: 0 }))).toBe('لا أجهزة');
    expect(f.text('ar', m('count', { n: 2 }))).toBe('جهازان');
    expect(f.text('ar', m('count', { n: 5 }))).toMatch(/أجهزة$/);
  });

  it('formats nested messages, falls back to English, isolates names in right-to-left pages, refuses unknown keys', () => {
    expect(f.text('en', m('nested', { reason: m('reason', { attribute: 'groups' }) }))).toBe('Failed: the attribute “groups” is missing');
    expect(f.text('ar', m('nested', { reason: m('reason', { attribute: 'x' }) }))).toBe('Failed: the attribute “x” is missing');
    expect(f.html('ar', m('hello', { name: '@alice:example.org' }))).toBe('مرحبا \u2068@alice:example.org\u2069');
    expect(f.html('en', m('hello', { name: '@alice:example.org' }))).toBe('Hello @alice:example.org');
    expect(() => f.html('en', m('nope'))).toThrow(UnknownMessageError);
  });
});

describe('catalog checks', () => {
  it('finds missing and extra keys and placeholders that differ (tags included)', () => {
    const de = catalog({
      hello: 'Hallo {nam}',
      rich: '<strong>{client}</strong> fragt nach <code>{scope}</code>. Lies die Bedingungen.',
      count: '{n, plural, one {# Gerät} other {# Geräte}}',
      extra: 'x',
      nested: 'Fehlgeschlagen: {reason}',
    }).c;
    expect(compareCatalogs(en, de).map((p) => `${p.key}: ${p.message}`)).toEqual([
      'reason: missing',
      'hello: placeholders differ from English: expected [name:text], found [nam:text]',
      'rich: placeholders differ from English: expected [client:text, code:tag, scope:text, strong:tag, tos:tag], found [client:text, code:tag, scope:text, strong:tag]',
      'extra: not a message of the English catalog (misspelt or obsolete key)',
    ]);
    expect(compareCatalogs(en, de, { partial: true }).map((p) => p.key)).toEqual(['hello', 'rich', 'extra']);
  });

  it('reports syntax errors, non-string leaves and plurals lacking a category', () => {
    const { problems } = catalog({ a: 'Hello {name', b: 3, c: { d: '{n, plural, one {x}}' } });
    expect(problems.map((p) => p.key).sort()).toEqual(['a', 'b', 'c.d']);
    const arBad = catalog({ count: '{n, plural, one {جهاز} other {أجهزة}}' }).c;
    expect(pluralProblems('ar', arBad)[0]!.message).toMatch(/lacks the ar categories zero, two, few, many/);
    expect(pluralProblems('ar', ar)).toEqual([]);
  });

  it('an apostrophe before a placeholder would swallow it (ICU quoting): the signature shows it', () => {
    expect(compileMessage("l'{app}").signature).toEqual([]);
    expect(compileMessage('l’{app}').signature).toEqual(['app:text']);
  });
});
