import { ForeignKeys1796678432292 as PostgresForeignKeys1796678432292 } from './postgres/1796678432292-ForeignKeys.js';
import { ForeignKeys1796678432292 as SqliteForeignKeys1796678432292 } from './sqlite/1796678432292-ForeignKeys.js';
import { SessionLifecycle1796672047702 as PostgresSessionLifecycle1796672047702 } from './postgres/1796672047702-SessionLifecycle.js';
import { SessionLifecycle1796672047702 as SqliteSessionLifecycle1796672047702 } from './sqlite/1796672047702-SessionLifecycle.js';
import { TermsOfService1796668498636 as PostgresTermsOfService1796668498636 } from './postgres/1796668498636-TermsOfService.js';
import { TermsOfService1796668498636 as SqliteTermsOfService1796668498636 } from './sqlite/1796668498636-TermsOfService.js';
import { SessionActivity1796667282428 as PostgresSessionActivity1796667282428 } from './postgres/1796667282428-SessionActivity.js';
import { SessionActivity1796667282428 as SqliteSessionActivity1796667282428 } from './sqlite/1796667282428-SessionActivity.js';
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
export const SQLITE_MIGRATIONS: Function[] = [
  SqliteInitial1795613140853,
  SqliteOutboxDelivery1795614948900,
  SqliteCompatLayer1795619249994,
  SqliteOutboxDeliveredIndex1796654045705,
  SqliteAdminApi1796664544328,
  SqliteSynapseImport1796664826385,
  SqliteSessionActivity1796667282428,
  SqliteTermsOfService1796668498636,
  SqliteSessionLifecycle1796672047702,
  SqliteForeignKeys1796678432292,
];
export const POSTGRES_MIGRATIONS: Function[] = [
  PostgresInitial1795613140853,
  PostgresOutboxDelivery1795614948900,
  PostgresCompatLayer1795619249994,
  PostgresOutboxDeliveredIndex1796654045705,
  PostgresAdminApi1796664544328,
  PostgresSynapseImport1796664826385,
  PostgresSessionActivity1796667282428,
  PostgresTermsOfService1796668498636,
  PostgresSessionLifecycle1796672047702,
  PostgresForeignKeys1796678432292,
];
