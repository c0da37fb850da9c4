import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareCatalogs, compileCatalog, flattenCatalog, pluralProblems, type CatalogProblem, type CompiledCatalog } from './catalog.js';
import { canonicalTag, describeLanguage, REFERENCE_LANGUAGE, SHIPPED_LANGUAGES, type Language } from '../../config/languages.js';

/** The shipped catalogs live beside this file (copied into dist/ by the build). */
export const CATALOG_DIR = fileURLToPath(new URL('./catalogs/', import.meta.url));

/** A problem found while loading, with the file it is in. */
export interface LoadProblem extends CatalogProblem {
  file: string;
}

export interface LoadedCatalogs {
  languages: Language[];
  catalogs: Map<string, CompiledCatalog>;
  /** Broken files, unknown keys, placeholders that differ: start-up refuses these. */
  errors: LoadProblem[];
  /** Keys an operator's catalog leaves to English, plural categories it lacks: logged. */
  warnings: LoadProblem[];
}

function readCatalog(file: string, errors: LoadProblem[]): CompiledCatalog {
  let tree: unknown;
  try {
    tree = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    errors.push({ file, key: '(file)', message: `cannot read it as JSON: ${(e as Error).message}` });
    return new Map();
  }
  const problems: CatalogProblem[] = [];
  const compiled = compileCatalog(flattenCatalog(tree, problems), problems);
  errors.push(...problems.map((p) => ({ ...p, file })));
  return compiled;
}

/**
 * The shipped catalogs, then the operator's directory (`templates.translations_path`): a file
 * `<tag>.json` there overrides messages of a shipped language or adds a language; what it leaves
 * out is shown in English.
 */
export function loadCatalogs(opts: { translationsPath?: string } = {}): LoadedCatalogs {
  const errors: LoadProblem[] = [];
  const warnings: LoadProblem[] = [];
  const catalogs = new Map<string, CompiledCatalog>();
  const languages = [...SHIPPED_LANGUAGES];
  for (const lang of SHIPPED_LANGUAGES) catalogs.set(lang.tag, readCatalog(join(CATALOG_DIR, `${lang.tag}.json`), errors));
  const reference = catalogs.get(REFERENCE_LANGUAGE)!;

  if (opts.translationsPath) {
    const dir = resolve(opts.translationsPath);
    let files: string[] = [];
    try {
      files = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
    } catch (e) {
      errors.push({ file: dir, key: '(directory)', message: `cannot list it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
    for (const name of files) {
      const file = join(dir, name);
      const tag = canonicalTag(name.slice(0, -'.json'.length));
      if (!tag) {
        errors.push({ file, key: '(file name)', message: 'the file name must be a language tag, e.g. de.json or pt-BR.json' });
        continue;
      }
      const own = readCatalog(file, errors);
      errors.push(...compareCatalogs(reference, own, { partial: true }).map((p) => ({ ...p, file })));
      warnings.push(...pluralProblems(tag, own).map((p) => ({ ...p, file })));
      const shipped = catalogs.get(tag);
      if (!shipped) {
        languages.push(describeLanguage(tag));
        const missing = [...reference.keys()].filter((k) => !own.has(k)).length;
        if (missing) warnings.push({ file, key: '(catalog)', message: `${missing} message(s) not translated: shown in English` });
      }
      catalogs.set(tag, new Map([...(shipped ?? []), ...own]));
    }
  }
  return { languages, catalogs, errors, warnings };
}

export function formatProblem(p: LoadProblem): string {
  return `${p.file}: ${p.key}: ${p.message}`;
}
