import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileCatalog, flattenCatalog, type CatalogProblem } from './catalog.js';
import { CATALOG_DIR } from './catalog-loader.js';
import { REFERENCE_LANGUAGE, SHIPPED_LANGUAGES } from '../../config/languages.js';
import type { Msg } from './message.js';
import { MessageFormatter } from './translator.js';

let formatter: MessageFormatter | undefined;

/**
 * A message in plain English, for an error's `message` (what logs and stack traces show). The
 * pages never use this: they format in the reader's language. Loaded on first use.
 */
export function englishText(m: Msg): string {
  try {
    if (!formatter) {
      const problems: CatalogProblem[] = [];
      const tree: unknown = JSON.parse(readFileSync(join(CATALOG_DIR, `${REFERENCE_LANGUAGE}.json`), 'utf8'));
      const catalog = compileCatalog(flattenCatalog(tree, problems), problems);
      formatter = new MessageFormatter(SHIPPED_LANGUAGES.slice(0, 1), new Map([[REFERENCE_LANGUAGE, catalog]]), { service: 'Causeway' });
    }
    return formatter.text(REFERENCE_LANGUAGE, m);
  } catch {
    return m.key;
  }
}
