/**
 * An error shown to a person as an HTML page. `title` and `message` are user-safe: never put
 * claim values, tokens or internal details in them (log those separately).
 */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly userMessage: string,
    readonly details: { reason?: string; [k: string]: unknown } = {},
  ) {
    super(`${title}: ${userMessage}`);
    this.name = 'PageError';
  }
}
