/** A language the pages can be shown in. */
export interface Language {
  /** BCP 47 tag, as in the catalog's file name (`pt-BR.json`). */
  tag: string;
  /** Its own name for itself (what the language picker shows). */
  name: string;
  dir: 'ltr' | 'rtl';
}

/** The languages Causeway ships complete catalogs for (`src/web/i18n/catalogs/<tag>.json`), in picker order. */
export const SHIPPED_LANGUAGES: readonly Language[] = [
  { tag: 'en', name: 'English', dir: 'ltr' },
  { tag: 'de', name: 'Deutsch', dir: 'ltr' },
  { tag: 'fr', name: 'Français', dir: 'ltr' },
  { tag: 'es', name: 'Español', dir: 'ltr' },
  { tag: 'it', name: 'Italiano', dir: 'ltr' },
  { tag: 'nl', name: 'Nederlands', dir: 'ltr' },
  { tag: 'pl', name: 'Polski', dir: 'ltr' },
  { tag: 'pt-BR', name: 'Português (Brasil)', dir: 'ltr' },
  { tag: 'sv', name: 'Svenska', dir: 'ltr' },
  { tag: 'ar', name: 'العربية', dir: 'rtl' },
];

/** The reference catalog: every other one is checked against it, and fills in what an operator's catalog leaves out. */
export const REFERENCE_LANGUAGE = 'en';

/** A language only an operator's catalog brings: its name and direction from the runtime's CLDR data. */
export function describeLanguage(tag: string): Language {
  let name = tag;
  let dir: 'ltr' | 'rtl' = 'ltr';
  try {
    const own = new Intl.DisplayNames([tag], { type: 'language' }).of(tag);
    if (own) name = own.charAt(0).toLocaleUpperCase(tag) + own.slice(1);
    const info = (new Intl.Locale(tag) as Intl.Locale & { getTextInfo?: () => { direction?: string } }).getTextInfo?.();
    if (info?.direction === 'rtl') dir = 'rtl';
  } catch {
    /* an unusual tag: shown as written, left to right */
  }
  return { tag, name, dir };
}

/** Is this a well-formed BCP 47 tag (as a catalog file name or a `?lang=` value)? */
export function canonicalTag(tag: string): string | undefined {
  if (tag.length > 35 || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag)) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}
