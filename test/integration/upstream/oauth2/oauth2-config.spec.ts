import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runCli } from '../../../support/causeway.js';
import { parseConfig } from '../../../../src/config/config.loader.js';
import { gatewayConfigSchema } from '../../../../src/upstream/gateway-config.schema.js';
import { ConfigError, formatProblem } from '../../../../src/config/config.errors.js';

/** The shipped `kind: oauth2` examples pass `causeway config check`; mistakes name their key. */
const env = {
  DATABASE_URL: 'postgres://causeway@127.0.0.1:5432/causeway',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CAUSEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  CAUSEWAY_SIGNING_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  SYNAPSE_SHARED_SECRET: randomBytes(24).toString('hex'),
  GITHUB_CLIENT_SECRET: randomBytes(16).toString('hex'),
  GITLAB_CLIENT_SECRET: randomBytes(16).toString('hex'),
  DISCORD_CLIENT_SECRET: randomBytes(16).toString('hex'),
};

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

const EXAMPLES = ['config/oauth2-github.example.yaml', 'config/oauth2-gitlab.example.yaml', 'config/oauth2-discord.example.yaml'];

describe('kind: oauth2 configuration', () => {
  it.each(EXAMPLES)('%s is valid', async (file) => {
    const r = await runCli(['config', 'check', '--config', file], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${file}: valid (1 provider(s)`);
    expect(r.code).toBe(0);
  });

  const github = readFileSync('config/oauth2-github.example.yaml', 'utf8');
  const P = 'upstream.providers[0]';
  it.each([
    ['a plain-http endpoint', github.replace('https://api.github.com/user/orgs', 'http://api.github.com/user/orgs'), `${P}.requests[1].url: must be https`],
    ['a subject path that is not a path', github.replace('subject: id', 'subject: "id[0]"'), `${P}.userinfo.subject: expected a dotted path`],
    ['an Authorization header of its own', github.replace('X-GitHub-Api-Version: "2022-11-28"', 'Authorization: token abc'), `${P}.api_headers.Authorization: set by Causeway itself`],
    ['a templated parameter that does not parse', github.replace('allow_signup: "false"', 'allow_signup: "{% if request.logged_out %}"'), `${P}.authorization_params.allow_signup: invalid template`],
    ['a protocol parameter in authorization_params', github.replace('allow_signup: "false"', 'state: "x"'), `${P}.authorization_params.state: set by Causeway itself`],
    ['no userinfo', github.replace(/ {6}userinfo:\n.*\n.*\n/, ''), `${P}.userinfo`],
    ['a client_secret_post without a secret', github.replace('      client_secret_env: GITHUB_CLIENT_SECRET\n', ''), `${P}.client_secret: required`],
  ])('refuses %s, naming the key', (_name, yaml, expected) => {
    expect(problemsOf(yaml)).toContain(expected);
  });
});
