import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** `sqlite://relative/or/absolute.db`, `sqlite::memory:` or `postgres://user:pass@host:port/db`. */
export const databaseSection = z
  .object({
    ...secretShape('url', 'Database URL: `sqlite://data/causeway.db` (the default; relative to the working directory), `sqlite::memory:` or `postgres://user:pass@host:port/db`.'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case SQL identifier')
      .optional()
      .describe("PostgreSQL schema to use (created if missing); the default is the user's search path (`public`)."),
    migrate_on_start: z.boolean().default(true).describe('Apply pending migrations at start-up; when false, run `causeway migrate` before starting a new version.'),
    pool_size: z.number().int().min(1).max(200).default(10).describe('Connections in the PostgreSQL pool of each replica; introspection keeps up to 4 more of its own (its lookups share statements).'),
  })
  .strict()
  .transform((o, ctx) => {
    const url = resolveSecret(o, 'url', ctx, { required: false }) ?? 'sqlite://data/causeway.db';
    if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected sqlite://FILE, sqlite::memory: or postgres://…' });
    }
    return { url, schema: o.schema, migrate_on_start: o.migrate_on_start, pool_size: o.pool_size };
  })
  .describe('Where Causeway keeps its state: SQLite (embedded default, one replica) or PostgreSQL (production).');
