import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openDataSource } from '../../../src/storage/data-source.js';
import { baseConfig, runCli } from '../../support/causeway.js';
import { freshDatabase, type DbKind, type TestDatabase } from '../../support/databases.js';
import { fixtureKeys } from '../../support/saml-forge.js';
import { FIXTURE_IDPS } from '../../support/synapse-fixture.js';

/** Causeway's tables the import writes (and the outbox, which it must never write). */
export const CAUSEWAY_TABLES = ['users', 'user_emails', 'upstream_links', 'compat_sessions', 'compat_tokens', 'synapse_import_users', 'outbox', 'oauth2_sessions'];

/** A Causeway config whose providers carry the fixture's synapse_idp_ids. */
export function importConfig(db: TestDatabase, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const sp = fixtureKeys('sp');
  return {
    ...baseConfig(8080, db),
    upstream: {
      providers: [
        { id: 'keycloak', kind: 'oidc', name: 'Keycloak', issuer: 'https://keycloak.example.test/realms/main', client_id: 'causeway', client_secret: 'x', synapse_idp_id: FIXTURE_IDPS.oidc },
        {
          id: 'campus',
          kind: 'saml',
          name: 'Campus',
          synapse_idp_id: FIXTURE_IDPS.saml,
          claims: { subject: '{{ user.uid }}' },
          idp: { entity_id: 'https://idp.example.edu/', sso_url: 'https://idp.example.edu/sso', certs: [sp.certFile] },
          sp: { key_file: sp.keyFile, cert_file: sp.certFile },
        },
        { id: 'campus-cas', kind: 'cas', name: 'CAS', synapse_idp_id: FIXTURE_IDPS.cas, server_url: 'https://cas.example.edu/cas' },
      ],
    },
    ...extra,
  };
}

export async function causewayDatabase(kind: DbKind, dir: string): Promise<{ db: TestDatabase; configFile: string }> {
  const db = await freshDatabase(kind, mkdtempSync(join(dir, 'cw-')));
  const configFile = join(dir, `gateway-${kind}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(configFile, stringify(importConfig(db)));
  return { db, configFile };
}

/** Runs a query on Causeway's database. */
export async function causewayQuery<T = Record<string, unknown>>(db: TestDatabase, sql: string): Promise<T[]> {
  const ds = await openDataSource({ url: db.url, schema: db.schema });
  try {
    return (await ds.query(sql)) as T[];
  } finally {
    await ds.destroy();
  }
}

export async function causewayCounts(db: TestDatabase): Promise<Record<string, number>> {
  const ds = await openDataSource({ url: db.url, schema: db.schema });
  try {
    const out: Record<string, number> = {};
    for (const t of CAUSEWAY_TABLES) out[t] = Number(((await ds.query(`SELECT count(*) AS n FROM ${t}`)) as { n: number | string }[])[0]!.n);
    return out;
  } finally {
    await ds.destroy();
  }
}

export function importCli(configFile: string, synapseUrl: string, ...flags: string[]) {
  return runCli(['import', 'synapse', '--config', configFile, '--synapse-database', synapseUrl, ...flags]);
}
