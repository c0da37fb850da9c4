import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/causeway.js';

const dir = mkdtempSync(join(tmpdir(), 'causeway-config-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'from-a-file\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALID = `
dev_mode: true
http: { public_base: "http://127.0.0.1:8080/" }
matrix: { homeserver: example.com, endpoint: "http://127.0.0.1:8008/", secret: s3cret }
upstream:
  providers:
    - { id: dev, kind: dev, name: Dev }
`;

async function check(yaml: string) {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return runCli(['config', 'check', '--config', file]);
}

describe('causeway config check', () => {
  it('accepts the shipped example and exits 0', async () => {
    const r = await runCli(['config', 'check', '--config', 'config/gateway.example.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid/);
  });

  it('accepts a minimal config', async () => {
    const r = await check(VALID);
    expect(r.code).toBe(0);
  });

  // Each kind of mistake: the message names the key path and says what was expected.
  it.each([
    ['unknown key', VALID.replace('dev_mode: true', 'dev_mode: true\ndev_mod: true'), 'dev_mod: unknown key'],
    ['misspelled nested key', VALID.replace('secret: s3cret', 'secrte: s3cret'), 'matrix.secrte: unknown key'],
    ['missing required section', VALID.replace(/^matrix:.*$/m, ''), 'matrix: required'],
    ['missing secret', VALID.replace(', secret: s3cret', ''), 'matrix.secret: required (as secret, secret_file or secret_env)'],
    ['wrong type', VALID.replace('dev_mode: true', 'dev_mode: "yes"'), 'dev_mode: expected boolean, got string'],
    [
      'bad enum in a provider',
      VALID.replace('{ id: dev, kind: dev, name: Dev }', '{ id: dev, kind: dev, name: Dev }\n    - { id: x, kind: dev, name: X, claims: { localpart: { action: forse } } }'),
      'upstream.providers[1].claims.localpart.action: expected one of force|suggest|require|ignore',
    ],
    ['unknown provider kind', VALID.replace('kind: dev', 'kind: ldap'), 'upstream.providers[0].kind: expected one of dev|oidc|oauth2|saml|cas'],
    [
      'dev sign-in outside dev mode',
      VALID.replace('dev_mode: true', 'dev_mode: false').replace('secret: s3cret', `secret_file: ${secretFile}`),
      'upstream.providers[0].kind: the dev sign-in is refused unless dev_mode: true',
    ],
    ['unreadable secret file', VALID.replace('secret: s3cret', 'secret_file: /nonexistent/secret'), 'matrix.secret_file: cannot read /nonexistent/secret: ENOENT'],
    ['unset env secret', VALID.replace('secret: s3cret', 'secret_env: CW_SURELY_UNSET_VAR'), 'matrix.secret_env: environment variable CW_SURELY_UNSET_VAR is not set'],
    ['two forms of one secret', VALID.replace('secret: s3cret', 'secret: a, secret_env: B'), 'matrix.secret_env: give only one of secret, secret_env'],
    ['bad duration', VALID + 'tokens: { access_token_ttl: 5x }\n', 'tokens.access_token_ttl: expected a duration'],
    ['public base without trailing slash', VALID.replace('http://127.0.0.1:8080/', 'http://127.0.0.1:8080'), 'http.public_base: must end with "/"'],
    ['duplicate provider ids', VALID.replace('{ id: dev, kind: dev, name: Dev }', '{ id: dev, kind: dev, name: Dev }\n    - { id: dev, kind: dev, name: Again }'), 'upstream.providers[1].id: duplicate provider id "dev"'],
    ['replicas without redis', VALID + 'replicas: 3\n', 'replicas: more than one replica needs redis.url'],
    ['homeserver endpoint missing', VALID.replace('endpoint: "http://127.0.0.1:8008/", ', ''), 'matrix.endpoint: required with api: synapse-mas'],
    [
      'no homeserver outside dev mode',
      VALID.replace('dev_mode: true', 'dev_mode: false').replace('secret: s3cret', 'api: none').replace('kind: dev', 'kind: cas, server_url: "https://cas.example.edu/cas"'),
      'matrix.api: none (no homeserver) is only allowed with dev_mode: true',
    ],
    ['no providers', VALID.replace(/upstream:[\s\S]*$/, 'upstream: { providers: [] }\n'), 'upstream.providers: declare at least one provider'],
    ['YAML syntax error', VALID + 'http: [unclosed\n', 'YAML:'],
  ])('%s → names the key and exits 1', async (_name, yaml, expected) => {
    const r = await check(yaml);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(expected);
  });

  it('reports the line of the offending key', async () => {
    const r = await check(VALID.replace('secret: s3cret', 'secrte: s3cret'));
    expect(r.stderr).toMatch(/matrix\.secrte: unknown key \(line 4\)/);
  });

  it('refuses inline secrets outside dev mode', async () => {
    const yaml = VALID.replace('dev_mode: true', 'dev_mode: false').replace('kind: dev', 'kind: cas, server_url: "https://cas.example.edu/cas"');
    const r = await check(yaml);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('matrix.secret: inline secrets are refused outside dev_mode; use secret_file or secret_env');
  });
});

describe('config problems inside unions keep their full key path', () => {
  it('names the key of a bad duration (a number-or-string union)', async () => {
    const r = await check(VALID + 'tokens: { access_token_ttl: [1] }\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tokens\.access_token_ttl: /);
  });
});
