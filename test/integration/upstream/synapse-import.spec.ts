import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { baseConfig, runCli } from '../../support/causeway.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../../support/databases.js';
import { fixtureKeys } from '../../support/saml-forge.js';
import { openDataSource } from '../../../src/storage/data-source.js';

/**
 * `causeway import synapse-external-ids`: Synapse's SSO users keep their accounts. The export is
 * what psql `\copy (SELECT auth_provider, external_id, user_id FROM user_external_ids) TO file`
 * writes (COPY text format: backslash escapes), or plain TSV from sqlite3.
 */
const sp = fixtureKeys('sp');
const dir = mkdtempSync(join(tmpdir(), 'causeway-synapse-import-'));
const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(TEST_DBS)('import synapse-external-ids (%s)', (kind) => {
  it('links rows of providers with a matching synapse_idp_id, creates missing accounts, reports the rest, and is idempotent', async () => {
    const db = await freshDatabase(kind, mkdtempSync(join(dir, 'db-')));
    dbs.push(db);
    const config = {
      ...baseConfig(8080, db),
      upstream: {
        providers: [
          { id: 'campus', kind: 'saml', name: 'Campus', synapse_idp_id: 'saml', claims: { subject: '{{ user.uid }}' }, idp: { entity_id: 'https://idp.example.edu/', sso_url: 'https://idp.example.edu/sso', certs: [sp.certFile] }, sp: { key_file: sp.keyFile, cert_file: sp.certFile } },
          { id: 'corp-cas', kind: 'cas', name: 'CAS', synapse_idp_id: 'cas', server_url: 'https://cas.example.edu/cas' },
        ],
      },
    };
    const configFile = join(dir, `gateway-${kind}.yaml`);
    writeFileSync(configFile, stringify(config));
    const exportFile = join(dir, `external-ids-${kind}.tsv`);
    writeFileSync(
      exportFile,
      [
        'saml\tcdodgson\t@cdodgson:example.test',
        'saml\talice\t@alice:example.test',
        'cas\tCORP\\\\bob\t@bob:example.test', // COPY escapes a backslash as \\
        'oidc-google\t110169484474386276334\t@carol:example.test',
        'saml\tmallory\t@mallory:evil.example',
        'not enough columns',
        '',
      ].join('\n'),
    );

    const dry = await runCli(['import', 'synapse-external-ids', '--config', configFile, '--input', exportFile, '--dry-run'], { cwd: dir });
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toContain('would link: 3 identities (3 account(s) to create)');

    const run = await runCli(['import', 'synapse-external-ids', '--config', configFile, '--input', exportFile], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('linked: 3 identities (3 account(s) created), already linked: 0');
    expect(run.stdout).toContain('skipped 1 row(s) of auth_provider "oidc-google": no provider has synapse_idp_id: oidc-google');
    expect(run.stdout).toContain('skipped 1 row(s) of users not on this homeserver');
    expect(run.stdout).toContain('skipped malformed line(s): 6');

    const again = await runCli(['import', 'synapse-external-ids', '--config', configFile, '--input', exportFile], { cwd: dir });
    expect(again.stdout).toContain('linked: 0 identities (0 account(s) created), already linked: 3');

    const ds = await openDataSource({ url: db.url, schema: db.schema });
    try {
      const links = (await ds.query('SELECT l.provider_id, l.subject, u.localpart FROM upstream_links l JOIN users u ON u.id = l.user_id ORDER BY u.localpart')) as Array<Record<string, string>>;
      expect(links).toEqual([
        { provider_id: 'campus', subject: 'alice', localpart: 'alice' },
        { provider_id: 'corp-cas', subject: 'CORP\\bob', localpart: 'bob' },
        { provider_id: 'campus', subject: 'cdodgson', localpart: 'cdodgson' },
      ]);
    } finally {
      await ds.destroy();
    }
  });
});
