import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../../../support/causeway.js';
import { fixtureKeys } from '../../../support/saml-forge.js';
import { samlProviderSchema, type SamlProviderConfig } from '../../../../src/upstream/saml/saml.config.js';
import { attributeMap, type SamlAttribute } from '../../../../src/upstream/saml/saml-attributes.js';
import { ProviderMapping } from '../../../../src/upstream/mapping/claims-mapper.js';
import { CONNECTOR_KINDS } from '../../../../src/upstream/connector-kinds.js';

/**
 * The shipped SAML examples (ADFS, Entra ID, Shibboleth, Okta, a federation) pass `causeway config check` as they
 * are, given their environment; their claims mapping works over attributes shaped as each IdP sends
 * them; SAML config mistakes name their key.
 */
const sp = fixtureKeys('sp');
const env = {
  DATABASE_URL: 'postgres://causeway@127.0.0.1:5432/causeway',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CAUSEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  CAUSEWAY_SIGNING_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  SYNAPSE_SHARED_SECRET: randomBytes(24).toString('hex'),
  SAML_SP_KEY: sp.key,
  SAML_SP_CERT: sp.cert,
  FEDERATION_METADATA_CERT: fixtureKeys('metadata-signer').cert,
};
const dir = mkdtempSync(join(tmpdir(), 'causeway-saml-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const EXAMPLES = ['config/saml-adfs.example.yaml', 'config/saml-entra.example.yaml', 'config/saml-shibboleth.example.yaml', 'config/saml-okta.example.yaml', 'config/saml-federation.example.yaml'];

function example(file: string): SamlProviderConfig {
  Object.assign(process.env, env);
  const yaml = parse(readFileSync(file, 'utf8')) as { upstream: { providers: unknown[] } };
  return samlProviderSchema.parse(yaml.upstream.providers[0]);
}
const policy = { serverName: 'example.com', reserved: [] };
const map = (file: string, attrs: SamlAttribute[], nameId: { value: string; format?: string }) =>
  new ProviderMapping(example(file), CONNECTOR_KINDS.saml.defaultTemplates).map({ providerId: 'x', subject: nameId.value, attributes: attributeMap(attrs, nameId, example(file).attribute_aliases) }, policy);
const MS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

describe('SAML configuration examples', () => {
  it.each(EXAMPLES)('%s passes causeway config check', async (file) => {
    const r = await runCli(['config', 'check', '--config', file], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${file}: valid (1 provider(s)`);
    expect(r.code).toBe(0);
  });

  it('ADFS: claim URIs by their last segment; the Group requirement', () => {
    const attrs = [
      { name: `${MS}upn`, values: ['Alice.Liddell@corp.example.com'] },
      { name: `${MS}emailaddress`, values: ['alice@example.com'] },
      { name: `${MS}givenname`, values: ['Alice'] },
      { name: `${MS}surname`, values: ['Liddell'] },
      { name: 'http://schemas.xmlsoap.org/claims/Group', values: ['Domain Users', 'Matrix Users'] },
    ];
    expect(map('config/saml-adfs.example.yaml', attrs, { value: 'gVvF7+jH0kq8Q3Yk5bXzvA==', format: PERSISTENT })).toMatchObject({
      ok: true,
      identity: { subject: 'gVvF7+jH0kq8Q3Yk5bXzvA==', localpart: { value: 'alice.liddell' }, displayname: { value: 'Alice Liddell' }, email: { value: 'alice@example.com' } },
    });
    expect(map('config/saml-adfs.example.yaml', attrs.slice(0, 4), { value: 'x', format: PERSISTENT })).toMatchObject({ ok: false, failure: { attribute: 'Group', reason: 'missing' } });
  });

  it('Entra ID: subject is the object ID, the app role is required', () => {
    const attrs = [
      { name: 'http://schemas.microsoft.com/identity/claims/objectidentifier', values: ['00000000-0000-0000-66f3-3332eca7ea81'] },
      { name: 'http://schemas.microsoft.com/identity/claims/displayname', values: ['Bob Smith'] },
      { name: `${MS}name`, values: ['Bob.Smith@example.com'] },
      { name: `${MS}emailaddress`, values: ['bob.smith@example.com'] },
      { name: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', values: ['Matrix.User'] },
    ];
    expect(map('config/saml-entra.example.yaml', attrs, { value: 'pairwise-xyz', format: PERSISTENT })).toMatchObject({
      ok: true,
      identity: { subject: '00000000-0000-0000-66f3-3332eca7ea81', localpart: { value: 'bob.smith' }, displayname: { value: 'Bob Smith' }, email: { value: 'bob.smith@example.com' } },
    });
    expect(map('config/saml-entra.example.yaml', attrs.slice(0, 4), { value: 'p', format: PERSISTENT })).toMatchObject({ ok: false, failure: { attribute: 'role', reason: 'missing' } });
  });

  it('Shibboleth: OIDs with FriendlyNames; the subject is uid, as Synapse keyed SAML users', () => {
    const attrs = [
      { name: 'urn:oid:0.9.2342.19200300.100.1.1', friendlyName: 'uid', values: ['cdodgson'] },
      { name: 'urn:oid:0.9.2342.19200300.100.1.3', friendlyName: 'mail', values: ['c.dodgson@example.edu'] },
      { name: 'urn:oid:2.16.840.1.113730.3.1.241', friendlyName: 'displayName', values: ['Charles Dodgson'] },
      { name: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.9', friendlyName: 'eduPersonScopedAffiliation', values: ['member@example.edu', 'faculty@example.edu'] },
    ];
    const cfg = example('config/saml-shibboleth.example.yaml');
    expect(cfg.synapse_idp_id).toBe('saml');
    expect(cfg.metadata_signing_cert).toContain('BEGIN CERTIFICATE');
    expect(map('config/saml-shibboleth.example.yaml', attrs, { value: '_transient1', format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' })).toMatchObject({
      ok: true,
      identity: { subject: 'cdodgson', localpart: { value: 'cdodgson' }, displayname: { value: 'Charles Dodgson' }, email: { value: 'c.dodgson@example.edu' } },
    });
    const alum = attrs.map((a) => (a.friendlyName === 'eduPersonScopedAffiliation' ? { ...a, values: ['alum@example.edu'] } : a));
    expect(map('config/saml-shibboleth.example.yaml', alum, { value: '_t' })).toMatchObject({ ok: false, failure: { attribute: 'eduPersonScopedAffiliation', reason: 'mismatch' } });
  });

  it('Okta: basic attribute names; subject is the Okta user id; localpart suggested', () => {
    const attrs = [
      { name: 'email', values: ['dana@example.com'] },
      { name: 'firstName', values: ['Dana'] },
      { name: 'lastName', values: ['Élan'] },
      { name: 'login', values: ['Dana.Elan@example.com'] },
      { name: 'oktaId', values: ['00u1abcdEFGH2ijkl3m4'] },
      { name: 'groups', values: ['matrix-users'] },
    ];
    expect(map('config/saml-okta.example.yaml', attrs, { value: 'dana.elan@example.com', format: PERSISTENT })).toMatchObject({
      ok: true,
      identity: { subject: '00u1abcdEFGH2ijkl3m4', localpart: { mode: 'ask', value: 'dana.elan' }, displayname: { value: 'Dana Élan' } },
    });
  });

  const adfs = readFileSync('config/saml-adfs.example.yaml', 'utf8');
  const P = 'upstream.providers[0]';
  it.each([
    ['no IdP at all', adfs.replace(/^ {6}metadata_url: .*$/m, ''), `${P}: give exactly one of metadata_url, metadata_file, idp`],
    ['two IdP sources', adfs.replace('metadata_refresh: 1h', 'metadata_refresh: 1h\n      metadata_file: /nonexistent.xml'), `${P}: give exactly one of metadata_url, metadata_file, idp`],
    ['an http metadata URL', adfs.replace('metadata_url: https://', 'metadata_url: http://'), `${P}.metadata_url: must be https`],
    ['signature: none', adfs.replace('signature: assertion', 'signature: none'), `${P}.signature: expected one of assertion|response|either|both`],
    ['a missing SP key', adfs.replace(/^ {8}key_env: SAML_SP_KEY.*$/m, ''), `${P}.sp.key: required (as key, key_file or key_env)`],
    ['a missing SP certificate', adfs.replace(/^ {8}cert_env: SAML_SP_CERT.*$/m, ''), `${P}.sp.cert: required (as cert, cert_file or cert_env)`],
    ['an SP certificate that is not one', adfs.replace('cert_env: SAML_SP_CERT', 'cert_env: SYNAPSE_SHARED_SECRET'), `${P}.sp.cert_env: not a valid X.509 certificate`],
    ['an SP certificate of another key', adfs.replace('cert_env: SAML_SP_CERT', 'cert_env: FEDERATION_METADATA_CERT'), `${P}.sp.cert: does not match sp.key`],
    ['a refresh of 1 second', adfs.replace('metadata_refresh: 1h', 'metadata_refresh: 1s'), `${P}.metadata_refresh: must be at least 5 second(s)`],
    ['a typo', adfs.replace('single_logout: true', 'single_logut: true'), `${P}.single_logut: unknown key`],
  ])('%s → names the key and exits 1', async (_name, yaml, expected) => {
    const file = join(dir, `c-${randomBytes(6).toString('hex')}.yaml`);
    writeFileSync(file, yaml);
    const r = await runCli(['config', 'check', '--config', file], { env });
    expect(r.stderr).toContain(expected);
    expect(r.code).toBe(1);
  });
});
