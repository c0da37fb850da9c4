import { loadCatalogs } from '../../src/web/i18n/catalog-loader.js';
import { englishText } from '../../src/web/i18n/english.js';
import type { Msg } from '../../src/web/i18n/message.js';
import { MessageFormatter } from '../../src/web/i18n/translator.js';

let formatter: MessageFormatter | undefined;

/** The shipped catalogs, formatting as the pages do (service name "Causeway"). */
export function shippedFormatter(): MessageFormatter {
  if (!formatter) {
    const loaded = loadCatalogs();
    if (loaded.errors.length) throw new Error(loaded.errors.map((e) => `${e.file}: ${e.key}: ${e.message}`).join('\n'));
    formatter = new MessageFormatter(loaded.languages, loaded.catalogs, { service: 'Causeway' });
  }
  return formatter;
}

/** A message as the English page says it (plain text). */
export const english = (m: Msg): string => englishText(m);
