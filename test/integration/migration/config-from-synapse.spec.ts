import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { jinjaToLiquid, UntranslatableTemplate } from '../../../src/migration/synapse-config/jinja-to-liquid.js';
import { compileTemplate, renderTemplate } from '../../../src/upstream/mapping/template-engine.js';
import { ROOT, runCli } from '../../support/causeway.js';

/**
 * `causeway config from-synapse` on real-world-shaped homeserver.yaml files (Keycloak OIDC with
 * templates, Entra ID OIDC, Shibboleth SAML, Apereo CAS with required attributes): the config it
 * writes passes `causeway config check` once the secret files exist, what it cannot translate is
 * listed by key path, and the Liquid templates give what Synapse's Jinja gives (rendered by real
 * jinja2 in Python, with Synapse's environment and localpart mapping) on sample claims.
 */
const dir = mkdtempSync(join(tmpdir(), 'causeway-from-synapse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = join(ROOT, 'test/fixtures/synapse/homeserver');
const SAML = join(ROOT, 'test/fixtures/saml');

type Provider = Record<string, unknown> & { claims: Record<string, unknown> };

async function translate(fixture: string) {
  const work = mkdtempSync(join(dir, 'case-'));
  const hsFile = join(work, 'homeserver.yaml');
  writeFileSync(hsFile, readFileSync(join(FIXTURES, fixture), 'utf8').replaceAll('__DIR__', work));
  // Files homeserver.yaml itself refers to.
  writeFileSync(join(work, 'entra-client-secret'), 'entra-secret\n');
  copyFileSync(join(SAML, 'metadata-signer.crt'), join(work, 'inc-md-cert-mdq.pem'));
  copyFileSync(join(SAML, 'sp.key'), join(work, 'saml-sp.key'));
  copyFileSync(join(SAML, 'sp.crt'), join(work, 'saml-sp.crt'));
  const secrets = join(work, 'secrets');
  const out = join(work, 'gateway.yaml');
  const res = await runCli(['config', 'from-synapse', '--synapse-config', hsFile, '--out', out, '--secrets-dir', secrets]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return { work, secrets, out, report: res.stdout, config: parse(readFileSync(out, 'utf8')) as Record<string, unknown> & { upstream: { providers: Provider[] } } };
}

/** Creates the secret files the report lists, then runs `causeway config check`. */
async function checkWithSecrets(t: Awaited<ReturnType<typeof translate>>) {
  mkdirSync(t.secrets, { recursive: true });
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  for (const line of t.report.split('\n')) {
    const m = /^ {2}(\/\S+): /.exec(line);
    if (!m || !m[1]!.startsWith(t.secrets)) continue;
    const file = m[1]!;
    if (file.endsWith('signing-key.pem')) writeFileSync(file, signing);
    else if (file.endsWith('database-url')) writeFileSync(file, `sqlite://${t.work}/causeway.db\n`);
    else if (file.endsWith('saml-sp.key')) copyFileSync(join(SAML, 'sp.key'), file);
    else if (file.endsWith('saml-sp.crt')) copyFileSync(join(SAML, 'sp.crt'), file);
    else writeFileSync(file, `${randomBytes(32).toString('base64')}\n`);
  }
  return runCli(['config', 'check', '--config', t.out]);
}

describe('causeway config from-synapse', () => {
  it('Keycloak OIDC with templates: provider, templates in Liquid, requirements, untranslatable keys listed', async () => {
    const t = await translate('keycloak-oidc.yaml');
    const check = await checkWithSecrets(t);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(t.config.matrix).toMatchObject({ homeserver: 'example.com', endpoint: 'http://127.0.0.1:8008/', api: 'synapse-mas' });
    const [p] = t.config.upstream.providers;
    expect(p).toMatchObject({
      id: 'keycloak',
      kind: 'oidc',
      name: 'Corporate login',
      brand: 'keycloak',
      issuer: 'https://sso.example.com/realms/corp',
      client_id: 'synapse',
      client_secret_file: `${t.secrets}/upstream-keycloak-client-secret`,
      scopes: ['openid', 'profile', 'email'],
      backchannel_logout: true,
      attribute_requirements: [{ attribute: 'groups', contains: 'matrix-users' }],
      synapse_idp_id: 'oidc-keycloak',
    });
    expect(p!.claims).toEqual({
      localpart: { action: 'force', template: '{{ user.preferred_username | strip | mxid_localpart }}' },
      displayname: { template: '{{ user.given_name }} {{ user.family_name }}', action: 'force', sync: 'always' },
      email: { template: '{{ user.email }}', action: 'force', sync: 'always' },
    });
    expect(t.report).toContain('oidc_providers[0].user_mapping_provider.config.picture_claim: Causeway does not import avatars');
    expect(t.report).toContain('oidc_providers[0].user_mapping_provider.config.extra_attributes:');
    expect(t.report).toContain('matrix_authentication_service:\n    enabled: true');
    expect(t.report).toMatch(/and remove from it[^\n]*\n {2}oidc_providers\n/);
    // The untranslated list is in the file too, as comments.
    expect(readFileSync(t.out, 'utf8')).toContain('#   oidc_providers[0].user_mapping_provider.config.picture_claim');
  });

  it('Entra ID OIDC: subject_claim, a method call in the localpart, `or`, client_secret_path, allow_existing_users', async () => {
    const t = await translate('entra-oidc.yaml');
    const check = await checkWithSecrets(t);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const [p] = t.config.upstream.providers;
    expect(p).toMatchObject({
      id: 'microsoft',
      brand: 'microsoft',
      client_secret_file: join(t.work, 'entra-client-secret'),
      token_endpoint_auth_method: 'client_secret_post',
      on_conflict: 'link',
      synapse_idp_id: 'oidc-microsoft',
    });
    expect(p!.claims).toMatchObject({
      subject: '{{ user.oid }}',
      localpart: { action: 'force', template: '{{ user.preferred_username | split: "@" | first | downcase | strip | mxid_localpart }}' },
      displayname: { template: '{{ user.name | default: user.preferred_username }}', sync: 'first_login' },
    });
    expect(t.config.matrix).toMatchObject({ homeserver: 'corp.example', endpoint: 'http://127.0.0.1:8008/' });
  });

  it('Shibboleth SAML: metadata, signing certificate, SP keys, uid as subject and localpart, requirements', async () => {
    const t = await translate('shibboleth-saml.yaml');
    const check = await checkWithSecrets(t);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const [p] = t.config.upstream.providers;
    expect(p).toMatchObject({
      id: 'saml',
      kind: 'saml',
      name: 'University login',
      metadata_url: 'https://mdq.incommon.org/entities/https%3A%2F%2Fidp.example.edu%2Fidp%2Fshibboleth',
      metadata_signing_cert_file: join(t.work, 'inc-md-cert-mdq.pem'),
      idp_entity_id: 'https://idp.example.edu/idp/shibboleth',
      sp: { entity_id: 'https://matrix.example.edu/_synapse/client/saml2/metadata.xml', key_file: join(t.work, 'saml-sp.key'), cert_file: join(t.work, 'saml-sp.crt'), sign_requests: false },
      attribute_requirements: [{ attribute: 'eduPersonAffiliation', contains: 'staff' }],
      synapse_idp_id: 'saml',
    });
    expect(p!.claims).toMatchObject({ subject: '{{ user.uid }}', localpart: { action: 'force', template: '{{ user.uid | strip | mxid_localpart }}' } });
  });

  it('Apereo CAS: server URL, protocol, required attributes (one listed as untranslatable), display name', async () => {
    const t = await translate('apereo-cas.yaml');
    const check = await checkWithSecrets(t);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    const [p] = t.config.upstream.providers;
    expect(p).toMatchObject({
      id: 'cas',
      kind: 'cas',
      server_url: 'https://cas.campus.example/cas',
      protocol: 3,
      single_logout: false,
      attribute_requirements: [{ attribute: 'userGroup', contains: 'staff' }],
      claims: { localpart: { action: 'force', template: '{{ user.user | strip | mxid_localpart }}' }, displayname: { template: '{{ user.displayName }}' } },
      synapse_idp_id: 'cas',
    });
    expect(t.report).toContain("cas_config.required_attributes.department: must merely exist: Causeway's requirements compare values");
    expect(t.report).toMatch(/\n {2}password_config\.enabled/);
  });
});

/** Synapse's rendering, by real jinja2 (test/support/synapse-jinja.py). */
function synapseRender(cases: { template: string; claims: Record<string, unknown>; localpart: boolean }[]): unknown[] {
  const out = execFileSync('python3', [join(ROOT, 'test/support/synapse-jinja.py')], { input: JSON.stringify(cases) });
  return JSON.parse(out.toString()) as unknown[];
}

describe('Jinja → Liquid: the same text on the same claims', () => {
  const LOCALPART_TEMPLATES = [
    '{{ user.preferred_username }}',
    '{{ user.email | localpart_from_email }}',
    "{{ user.preferred_username.split('@')[0] | lower }}",
    "{{ user.given_name ~ '.' ~ user.family_name }}",
    "{{ user.email.split('@')[0].replace('.', '_') }}",
    '{{ user.groups[0] }}',
    '{{- user.preferred_username | trim -}}',
  ];
  const PROFILE_TEMPLATES = [
    '{{ user.given_name }} {{ user.family_name }}',
    '{{ user.name or user.preferred_username }}',
    "{{ user.nickname | default('Anonymous') }}",
    '{% if user.nickname %}{{ user.nickname }}{% else %}{{ user.given_name | capitalize }}{% endif %}',
    "{{ user['custom:login'] | upper }}",
    '{{ user.email | lower }}',
    '{% if user.org == "staff" %}Staff: {% endif %}{{ user.name }}',
  ];
  const CLAIMS: Record<string, unknown>[] = [
    { preferred_username: 'alice', email: 'alice@example.org', given_name: 'Alice', family_name: 'Liddell', name: 'Alice Liddell', groups: ['staff', 'x'], 'custom:login': 'ali', org: 'staff' },
    { preferred_username: 'JSmith@Corp.Example', email: 'john.smith@corp.example', given_name: 'john', family_name: 'SMITH', groups: ['g1'], nickname: 'johnny', 'custom:login': 'js' },
    { preferred_username: 'Élodie O’Brien', email: 'élodie@exämple.org', given_name: 'Élodie', family_name: 'O’Brien', name: 'Élodie O’Brien', groups: ['é'], org: 'student' },
    { preferred_username: '_svc_backup', email: 'a@b@c.example', given_name: 'svc', family_name: 'backup', name: 'Backup', groups: ['ops'], 'custom:login': 'svc' },
    { preferred_username: 'x=y+z/w', email: 'x.y.z@example.org', given_name: 'X', family_name: 'Y', groups: [] as string[] },
  ];

  it('localparts (Synapse maps them with map_username_to_mxid_localpart) and profile fields agree', () => {
    const cases = [
      ...LOCALPART_TEMPLATES.flatMap((template) => CLAIMS.map((claims) => ({ template, claims, localpart: true }))),
      ...PROFILE_TEMPLATES.flatMap((template) => CLAIMS.map((claims) => ({ template, claims, localpart: false }))),
    ];
    const expected = synapseRender(cases);
    const actual = cases.map((c) => {
      const liquid = jinjaToLiquid(c.template);
      const wrapped = c.localpart ? `{% capture l %}${liquid}{% endcapture %}{{ l | strip | mxid_localpart }}` : liquid;
      try {
        return renderTemplate(compileTemplate(wrapped), c.claims as Record<string, string | string[]>);
      } catch (e) {
        return { error: (e as Error).message };
      }
    });
    const mismatches = cases.flatMap((c, i) => (JSON.stringify(actual[i]) === JSON.stringify(expected[i]) ? [] : [{ ...c, jinja: expected[i], liquid: actual[i] }]));
    // Jinja raises on .split of a missing claim; those cases are not comparisons of results.
    expect(mismatches.filter((m) => !(typeof m.jinja === 'object' && m.jinja !== null))).toEqual([]);
    expect(expected.filter((e) => typeof e === 'string').length).toBeGreaterThan(cases.length * 0.9);
  });

  it.each([
    ['{{ user.name | title }}', 'the "title" filter'],
    ['{% for g in user.groups %}{{ g }}{% endfor %}', 'the {% for %} statement'],
    ['{{ user.a + user.b }}', '"+"'],
    ['{{ server_name }}', 'the name "server_name"'],
    ['{{ user.email.startswith("a") }}', 'the .startswith() method'],
  ])('refuses %s (%s), never translating it wrongly', (template, why) => {
    expect(() => jinjaToLiquid(template)).toThrow(UntranslatableTemplate);
    expect(() => jinjaToLiquid(template)).toThrow(why);
  });
});
