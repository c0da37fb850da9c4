import { SessionLifecycle1796666217119 as PostgresSessionLifecycle1796666217119 } from './postgres/1796666217119-SessionLifecycle.js';
import { SessionLifecycle1796666217119 as SqliteSessionLifecycle1796666217119 } from './sqlite/1796666217119-SessionLifecycle.js';
import { SynapseImport1796664826385 as PostgresSynapseImport1796664826385 } from './postgres/1796664826385-SynapseImport.js';
import { SynapseImport1796664826385 as SqliteSynapseImport1796664826385 } from './sqlite/1796664826385-SynapseImport.js';
import { AdminApi1796664544328 as PostgresAdminApi1796664544328 } from './postgres/1796664544328-AdminApi.js';
import { AdminApi1796664544328 as SqliteAdminApi1796664544328 } from './sqlite/1796664544328-AdminApi.js';
import { OutboxDeliveredIndex1796654045705 as PostgresOutboxDeliveredIndex1796654045705 } from './postgres/1796654045705-OutboxDeliveredIndex.js';
import { OutboxDeliveredIndex1796654045705 as SqliteOutboxDeliveredIndex1796654045705 } from './sqlite/1796654045705-OutboxDeliveredIndex.js';
import { CompatLayer1795619249994 as PostgresCompatLayer1795619249994 } from './postgres/1795619249994-CompatLayer.js';
import { CompatLayer1795619249994 as SqliteCompatLayer1795619249994 } from './sqlite/1795619249994-CompatLayer.js';
import { OutboxDelivery1795614948900 as PostgresOutboxDelivery1795614948900 } from './postgres/1795614948900-OutboxDelivery.js';
import { OutboxDelivery1795614948900 as SqliteOutboxDelivery1795614948900 } from './sqlite/1795614948900-OutboxDelivery.js';
import { Initial1795613140853 as PostgresInitial1795613140853 } from './postgres/1795613140853-Initial.js';
import { Initial1795613140853 as SqliteInitial1795613140853 } from './sqlite/1795613140853-Initial.js';
// Migrations are generated per database by `npm run migration:generate -- <Name>` (scripts/migration-generate.js)
// and never edited after they shipped. test/integration/storage checks that entities and migrations agree.
export const SQLITE_MIGRATIONS: Function[] = [SqliteInitial1795613140853, SqliteOutboxDelivery1795614948900, SqliteCompatLayer1795619249994, SqliteOutboxDeliveredIndex1796654045705, SqliteAdminApi1796664544328, SqliteSynapseImport1796664826385, SqliteSessionLifecycle1796666217119];
export const POSTGRES_MIGRATIONS: Function[] = [PostgresInitial1795613140853, PostgresOutboxDelivery1795614948900, PostgresCompatLayer1795619249994, PostgresOutboxDeliveredIndex1796654045705, PostgresAdminApi1796664544328, PostgresSynapseImport1796664826385, PostgresSessionLifecycle1796666217119];
