import { englishText } from './i18n/english.js';
import { msg, type MessageKey, type Msg } from './i18n/message.js';

const asMsg = (m: Msg | MessageKey): Msg => (typeof m === 'string' ? msg(m) : m);

/**
 * An error shown to a person as an HTML page, in their language: `title` and `userMessage` are
 * catalog messages and must be user-safe (never put claim values, tokens or internal details in
 * their parameters; log those in `details`).
 */
export class PageError extends Error {
  readonly title: Msg;
  readonly userMessage: Msg;

  constructor(
    readonly status: number,
    title: Msg | MessageKey,
    userMessage: Msg | MessageKey,
    readonly details: { reason?: string; [k: string]: unknown } = {},
  ) {
    const t = asMsg(title);
    const m = asMsg(userMessage);
    super(`${englishText(t)}: ${englishText(m)}`);
    this.title = t;
    this.userMessage = m;
    this.name = 'PageError';
  }
}
