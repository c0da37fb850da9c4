import type en from './catalogs/en.json';

/** Dotted paths of a nested catalog's string leaves (`consent.title`, `error.title.bad_request`, …). */
type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

/** Every message id: the English catalog is the source of truth, so a mistyped key fails the typecheck. */
export type MessageKey = Leaves<typeof en>;

/** A value of a message placeholder: text (escaped when shown), a number (plurals), or another message. */
export type MessageParam = string | number | Msg;

/**
 * A user-visible text that is not yet in a language: the catalog key and its placeholder values.
 * Plain JSON, so it can be persisted (a login's failure page) and rendered later in the language of
 * whoever looks at it.
 */
export interface Msg {
  key: MessageKey;
  params?: Record<string, MessageParam>;
}

export function msg(key: MessageKey, params?: Record<string, MessageParam>): Msg {
  return params ? { key, params } : { key };
}

export function isMsg(v: unknown): v is Msg {
  return typeof v === 'object' && v !== null && typeof (v as Msg).key === 'string';
}
