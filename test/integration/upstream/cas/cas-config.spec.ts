import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../support/causeway.js';

/** The shipped CAS examples pass `causeway config check` as they are, given their environment. */
const env = {
  DATABASE_URL: 'postgres://causeway@127.0.0.1:5432/causeway',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CAUSEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  CAUSEWAY_SIGNING_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  SYNAPSE_SHARED_SECRET: randomBytes(24).toString('hex'),
};

describe('CAS configuration examples', () => {
  it.each(['config/cas-apereo.example.yaml', 'config/cas2-no-attributes.example.yaml'])('%s is valid', async (file) => {
    const r = await runCli(['config', 'check', '--config', file], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${file}: valid (1 provider(s)`);
    expect(r.code).toBe(0);
  });

  it('names the key of a CAS mistake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'causeway-cas-config-'));
    try {
      const base = readFileSync('config/cas-apereo.example.yaml', 'utf8');
      const cases: [string, string][] = [
        [base.replace('protocol: 3 ', 'protocol: 1 '), 'upstream.providers[0].protocol'],
        [base.replace('server_url: https://cas.example.edu/cas', 'server_url: http://cas.example.edu/cas'), 'upstream.providers[0].server_url: must be https'],
        [base.replace('slo_allowed_from: [10.20.0.0/16]', 'slo_allowed_from: [10.20.0.0/33]'), 'upstream.providers[0].slo_allowed_from[0]: expected a CIDR range'],
        [base.replace('timeout_ms: 5000', 'timeout_ms: 5'), 'upstream.providers[0].timeout_ms'],
        [base.replace('kind: cas', 'kind: cas\n      service_url: https://x/'), 'upstream.providers[0].service_url: unknown key'],
      ];
      for (const [yaml, expected] of cases) {
        const file = join(dir, `c${randomBytes(4).toString('hex')}.yaml`);
        writeFileSync(file, yaml);
        const r = await runCli(['config', 'check', '--config', file], { env });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
