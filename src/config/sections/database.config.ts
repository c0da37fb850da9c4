import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** `sqlite://relative/or/absolute.db`, `sqlite::memory:` or `postgres://user:pass@host:port/db`. */
export const databaseSection = z
  .object({
    ...secretShape('url'),
    /** PostgreSQL schema to use (created if missing). */
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case SQL identifier').optional(),
    /** Run pending migrations at start-up (else run `causeway migrate` first). */
    migrate_on_start: z.boolean().default(true),
    /** Connection pool size (PostgreSQL). */
    pool_size: z.number().int().min(1).max(200).default(10),
  })
  .strict()
  .transform((o, ctx) => {
    const url = resolveSecret(o, 'url', ctx, { required: false }) ?? 'sqlite://data/causeway.db';
    if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected sqlite://FILE, sqlite::memory: or postgres://…' });
    }
    return { url, schema: o.schema, migrate_on_start: o.migrate_on_start, pool_size: o.pool_size };
  });
export type DatabaseConfig = z.infer<typeof databaseSection>;
