import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL of the test machine (trust auth, db `test`). */
export const PG_URL = process.env.CAUSEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type DbKind = 'sqlite' | 'postgres';
/** Integration tests run against both; CAUSEWAY_TEST_DBS=sqlite narrows it for a quick local run. */
export const TEST_DBS: DbKind[] = (process.env.CAUSEWAY_TEST_DBS?.split(',') as DbKind[] | undefined) ?? ['sqlite', 'postgres'];

export interface TestDatabase {
  url: string;
  schema?: string;
  drop(): Promise<void>;
}

/** A fresh database: an SQLite file in `dir`, or a new PostgreSQL schema dropped afterwards. */
export async function freshDatabase(kind: DbKind, dir: string): Promise<TestDatabase> {
  if (kind === 'sqlite') return { url: `sqlite://${dir}/causeway.db`, drop: async () => {} };
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    url: PG_URL,
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
