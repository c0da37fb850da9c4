import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderPage, type PageSetup } from './page-setup.js';
import { TEMPLATE_SAMPLES } from './template-samples.js';

export interface TemplatesReport {
  /** Pages rendered (samples × languages). */
  rendered: number;
  languages: number;
  /** Problems as LiquidJS reports them (file, line, column), each once, with where it first showed up. */
  problems: string[];
}

/**
 * Parses every file of the operator's template directory, then renders every page kind with
 * sample data in every language (`causeway templates check`; start-up runs it when `templates.path`
 * is set and refuses to serve broken pages). The errors carry LiquidJS's file, line and column.
 */
export async function checkTemplates(setup: PageSetup, overridePath?: string): Promise<TemplatesReport> {
  // One entry per distinct error: a broken layout fails every page in every language the same way.
  const seen = new Map<string, { where?: string; count: number }>();
  const add = (message: string, where?: string) => {
    const s = seen.get(message);
    if (s) s.count++;
    else seen.set(message, { where, count: 1 });
  };
  if (overridePath) {
    let files: string[] = [];
    try {
      files = readdirSync(resolve(overridePath)).filter((f) => f.endsWith('.liquid'));
    } catch (e) {
      add(`templates.path: cannot list ${resolve(overridePath)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const f of files) {
      try {
        await setup.engine.parseFile(f.slice(0, -'.liquid'.length));
      } catch (e) {
        add((e as Error).message);
      }
    }
  }
  let rendered = 0;
  for (const sample of TEMPLATE_SAMPLES) {
    for (const language of setup.languages) {
      try {
        await renderPage(setup, sample.template, sample.vars, { lang: language.tag });
        rendered++;
      } catch (e) {
        add((e as Error).message, `page "${sample.name}", language ${language.tag}`);
      }
    }
  }
  const problems = [...seen].map(([message, s]) => (s.where ? `${message} (${s.where}${s.count > 1 ? `, and ${s.count - 1} more` : ''})` : message));
  return { rendered, languages: setup.languages.length, problems };
}
