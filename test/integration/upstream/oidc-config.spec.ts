import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/causeway.js';
import { parseConfig } from '../../../src/config/config.loader.js';
import { gatewayConfigSchema } from '../../../src/upstream/gateway-config.schema.js';
import { ConfigError, formatProblem } from '../../../src/config/config.errors.js';

/**
 * The shipped OIDC examples pass `causeway config check` as they are, given their environment.
 * Mistakes name their key: checked through the loader the CLI uses (in-process, so the table stays fast).
 */
const env = {
  DATABASE_URL: 'postgres://causeway@127.0.0.1:5432/causeway',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CAUSEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  CAUSEWAY_SIGNING_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  SYNAPSE_SHARED_SECRET: randomBytes(24).toString('hex'),
  KEYCLOAK_CLIENT_SECRET: randomBytes(16).toString('hex'),
  ENTRA_CLIENT_SECRET: randomBytes(16).toString('hex'),
  ENTRA_PARTNERS_CLIENT_SECRET: randomBytes(16).toString('hex'),
  GOOGLE_CLIENT_SECRET: randomBytes(16).toString('hex'),
  AUTHENTIK_CLIENT_SECRET: randomBytes(16).toString('hex'),
  APPLE_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  OIDC_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
/** Every problem the loader reports for a YAML text, formatted as the CLI prints them ('' when valid). */
function problemsOf(yaml: string): string {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    parseConfig(yaml, gatewayConfigSchema, 'test.yaml');
    return '';
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map(formatProblem).join('\n');
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
}

/** Each example and its number of providers (Entra: one tenant, and a multi-tenant app). */
const EXAMPLES: [string, number][] = [
  ['config/oidc-keycloak.example.yaml', 1],
  ['config/oidc-entra.example.yaml', 2],
  ['config/oidc-google.example.yaml', 1],
  ['config/oidc-authentik.example.yaml', 1],
  ['config/oidc-apple.example.yaml', 1],
];
const dir = mkdtempSync(join(tmpdir(), 'causeway-oidc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OIDC configuration examples', () => {
  it.each(EXAMPLES)('%s is valid', async (file, providers) => {
    const r = await runCli(['config', 'check', '--config', file], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${file}: valid (${providers} provider(s)`);
    expect(r.code).toBe(0);
  });

  const keycloak = readFileSync('config/oidc-keycloak.example.yaml', 'utf8');
  const P = 'upstream.providers[0]';
  it.each([
    ['a template syntax error', keycloak.replace('{{ user.name }}', '{{ user.name | titlecase }}'), `${P}.claims.displayname.template: invalid template: undefined filter: titlecase`],
    ['a template that includes a file', keycloak.replace('{{ user.name }}', "{% include '/etc/passwd' %}"), `${P}.claims.displayname.template: invalid template: tag "include" not found`],
    ['an unclosed template', keycloak.replace('"{{ user.preferred_username | downcase }}"', '"{{ user.preferred_username"'), `${P}.claims.localpart.template: invalid template`],
    ['a subject template error', keycloak.replace('# subject: the ID token', 'subject: "{% if %}"\n        # the ID token'), `${P}.claims.subject: invalid template`],
    ['a localpart synced always', keycloak.replace('localpart: { action: force,', 'localpart: { sync: always, action: force,'), `${P}.claims.localpart.sync: a localpart is chosen once`],
    ['a bad import action', keycloak.replace('localpart: { action: force', 'localpart: { action: forced'), `${P}.claims.localpart.action: expected one of force|suggest|require|ignore`],
    [
      'a requirement with two rules',
      keycloak.replace('{ attribute: groups, contains: matrix-users }', '{ attribute: groups, contains: a, equals: b }'),
      `${P}.attribute_requirements[0]: give exactly one of equals, one_of, contains`,
    ],
    ['an http issuer', keycloak.replace('issuer: https://sso', 'issuer: http://sso'), `${P}.issuer: must be https`],
    ['scopes without openid', keycloak.replace('scopes: [openid, profile, email]', 'scopes: [profile, email]'), `${P}.scopes: must include openid`],
    ['a protocol parameter in authorization_params', keycloak.replace('scopes: [openid', 'authorization_params: { nonce: fixed }\n      scopes: [openid'), `${P}.authorization_params.nonce: set by Causeway itself`],
    ['alg none', keycloak.replace('scopes: [openid', 'id_token_signed_response_alg: none\n      scopes: [openid'), `${P}.id_token_signed_response_alg: expected one of RS256`],
    ['HS256', keycloak.replace('scopes: [openid', 'id_token_signed_response_alg: HS256\n      scopes: [openid'), `${P}.id_token_signed_response_alg: expected one of RS256`],
    ['a missing client secret', keycloak.replace('      client_secret_env: KEYCLOAK_CLIENT_SECRET\n', ''), `${P}.client_secret: required (as client_secret, client_secret_file or client_secret_env)`],
    ['an inline client secret outside dev mode', keycloak.replace('client_secret_env: KEYCLOAK_CLIENT_SECRET', 'client_secret: hunter2'), `${P}.client_secret: inline secrets are refused outside dev_mode`],
    [
      'private_key_jwt without a kid',
      keycloak.replace('client_secret_env: KEYCLOAK_CLIENT_SECRET', 'private_key_env: OIDC_PRIVATE_KEY').replace('token_endpoint_auth_method: client_secret_basic', 'token_endpoint_auth_method: private_key_jwt'),
      `${P}.private_key_kid: required with private_key_jwt`,
    ],
    [
      'private_key_jwt with something that is not a key',
      keycloak
        .replace('client_secret_env: KEYCLOAK_CLIENT_SECRET', 'private_key_env: SYNAPSE_SHARED_SECRET\n      private_key_kid: k1')
        .replace('token_endpoint_auth_method: client_secret_basic', 'token_endpoint_auth_method: private_key_jwt'),
      `${P}.private_key: expected a PEM`,
    ],
    ['discovery off without endpoints', keycloak.replace('client_id: matrix-causeway', 'client_id: matrix-causeway\n      discovery: false'), `${P}.token_endpoint: required when discovery is false`],
    ['a misspelt key', keycloak.replace('backchannel_logout: true', 'backchannel_logut: true'), `${P}.backchannel_logut: unknown key`],
  ])('names the key of %s', (_name, yaml, expected) => {
    expect(yaml).not.toBe(keycloak);
    expect(problemsOf(yaml)).toContain(expected);
  });

  it('the CLI prints such a problem and exits 1', async () => {
    const file = join(dir, 'bad-template.yaml');
    writeFileSync(file, keycloak.replace('{{ user.name }}', '{{ user.name | titlecase }}'));
    const r = await runCli(['config', 'check', '--config', file], { env });
    // The template's own position, then the YAML line.
    expect(r.stderr).toContain(`${P}.claims.displayname.template: invalid template: undefined filter: titlecase, line:1, col:1 (line 55)`);
    expect(r.code).toBe(1);
  });

  it('private_key_jwt with a proper key and kid is valid', () => {
    const yaml = keycloak
      .replace('client_secret_env: KEYCLOAK_CLIENT_SECRET', 'private_key_env: OIDC_PRIVATE_KEY\n      private_key_kid: causeway-1')
      .replace('token_endpoint_auth_method: client_secret_basic', 'token_endpoint_auth_method: private_key_jwt');
    expect(problemsOf(yaml)).toBe('');
  });
});
