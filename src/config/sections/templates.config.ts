import { z } from 'zod';

/** Operators' own page templates and translations (checked at start-up and by `causeway templates check`). */
export const templatesSection = z
  .object({
    /** A directory of `.liquid` files replacing the shipped templates of the same name (e.g. `layout.liquid`). */
    path: z.string().min(1).optional(),
    /** A directory of `<language>.json` catalogs: they override shipped messages or add languages (missing messages fall back to English). */
    translations_path: z.string().min(1).optional(),
  })
  .strict();
export type TemplatesConfig = z.infer<typeof templatesSection>;
