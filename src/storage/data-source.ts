import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ALL_ENTITIES } from './entities/index.js';
import { SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS } from './migrations/index.js';

export interface DataSourceSettings {
  url: string;
  schema?: string;
  pool_size?: number;
  /**
   * SQLite: read the file through a 256 MiB memory map (the serving process, where introspection
   * reads dominate). Off for the commands: a bulk import touching every page would count the whole
   * mapped file in its resident memory, for no gain.
   */
  mapped_reads?: boolean;
}

export type DbKind = 'sqlite' | 'postgres';

export function dbKindOf(url: string): DbKind {
  return url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
}

/** Builds the TypeORM data source for `sqlite://FILE`, `sqlite::memory:` or `postgres://…`. */
export function buildDataSourceOptions(s: DataSourceSettings): DataSourceOptions {
  if (dbKindOf(s.url) === 'sqlite') {
    const rest = s.url.replace(/^sqlite:(\/\/)?/, '');
    const database = rest === ':memory:' ? ':memory:' : resolve(rest);
    if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
    return {
      type: 'better-sqlite3',
      database,
      entities: ALL_ENTITIES,
      migrations: SQLITE_MIGRATIONS,
      migrationsTableName: 'migrations',
      synchronize: false,
      enableWAL: true,
      // TypeORM's default of 100 prepared statements is a FIFO smaller than the set of statements in
      // use (IN lists of every length among them); see also bindIntegerParameters.
      statementCacheSize: 2000,
      // Wait for a concurrent writer (e.g. `causeway migrate` while serving) instead of failing.
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
        db.pragma('synchronous = NORMAL');
        // Reads (introspection above all) come from the mapped file instead of a read() per page.
        if (s.mapped_reads) db.pragma('mmap_size = 268435456');
      },
    };
  }
  return {
    type: 'postgres',
    url: s.url,
    entities: ALL_ENTITIES,
    migrations: POSTGRES_MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    // A configured schema is selected with search_path on every pooled connection, so that the
    // generated (unqualified) migrations and TypeORM's queries both land in it.
    extra: { max: s.pool_size ?? 10, ...(s.schema ? { options: `-c search_path=${s.schema}` } : {}) },
  };
}

/** Opens the database (creating the PostgreSQL schema if one is configured). */
export async function openDataSource(s: DataSourceSettings): Promise<DataSource> {
  if (s.schema && dbKindOf(s.url) === 'postgres') {
    // Before TypeORM connects: it reads current_schema() once at start-up.
    const client = new pg.Client({ connectionString: s.url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${s.schema}"`);
    } finally {
      await client.end();
    }
  }
  const ds = new DataSource(buildDataSourceOptions(s));
  if (ds.driver.options.type === 'better-sqlite3') bindIntegerParameters(ds.driver);
  await ds.initialize();
  if (ds.driver.options.type === 'better-sqlite3') integerRowIds(ds);
  return ds;
}

/**
 * TypeORM's SQLite driver writes every number parameter into the SQL text, so a statement carrying a
 * timestamp or an id is new SQL each time: prepared again, and crowding the statement cache. Safe
 * integers are bound instead, as BigInt, which SQLite receives as the very INTEGER it would have
 * parsed from the text.
 */
function bindIntegerParameters(driver: DataSource['driver']): void {
  const original = driver.escapeQueryWithParameters.bind(driver);
  driver.escapeQueryWithParameters = (sql: string, parameters: Record<string, unknown>) => {
    const bound: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parameters ?? {})) bound[k] = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
    return original(sql, bound);
  };
}

/**
 * Generated bigint ids (the outbox's) are INTEGER on SQLite: only an INTEGER PRIMARY KEY
 * auto-increments there, and it is 64-bit anyway. The entity declares PostgreSQL's type.
 */
function integerRowIds(ds: DataSource): void {
  for (const meta of ds.entityMetadatas) {
    for (const col of meta.primaryColumns) if (col.generationStrategy === 'increment' && col.type === 'bigint') col.type = 'integer';
  }
}

/** Runs pending migrations in one transaction; returns the names applied. */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const applied = await ds.runMigrations({ transaction: 'all' });
  return applied.map((m) => m.name);
}
