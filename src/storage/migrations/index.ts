import { Initial1795613140853 as PostgresInitial1795613140853 } from './postgres/1795613140853-Initial.js';
import { Initial1795613140853 as SqliteInitial1795613140853 } from './sqlite/1795613140853-Initial.js';
// Migrations are generated per database by `npm run migration:generate -- <Name>` (scripts/migration-generate.js)
// and never edited after they shipped. test/integration/storage checks that entities and migrations agree.
export const SQLITE_MIGRATIONS: Function[] = [SqliteInitial1795613140853];
export const POSTGRES_MIGRATIONS: Function[] = [PostgresInitial1795613140853];
