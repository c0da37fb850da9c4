import { z } from 'zod';

/** Operators' own page templates and translations (checked at start-up and by `causeway templates check`). */
export const templatesSection = z
  .object({
    path: z.string().min(1).optional().describe('A directory of `.liquid` files replacing the shipped templates of the same name (e.g. `layout.liquid`).'),
    translations_path: z.string().min(1).optional().describe('A directory of `<language>.json` catalogs: they override shipped messages or add languages (missing messages fall back to English).'),
  })
  .strict()
  .describe("Operators' own page templates and translations.");
