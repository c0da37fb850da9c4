import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/config.loader.js';
import { gatewayConfigSchema } from '../../../src/upstream/gateway-config.schema.js';
import { ConfigError } from '../../../src/config/config.errors.js';

/**
 * Issue 13: the config-level hardening. Outside dev_mode: a short `matrix.secret` (F7) and CAS
 * single logout open to every address (F12) are refused at start-up, naming the key; /metrics
 * leaves the public port by default. Each problem is checked on a production-shaped config.
 */
const dir = mkdtempSync(join(tmpdir(), 'causeway-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const key = file('rs1.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const encryption = file('enc', randomBytes(32).toString('base64url'));
const longSecret = file('hs-long', randomBytes(32).toString('base64url'));
const shortSecret = file('hs-short', 'synapse-secret');
const dbUrl = file('db-url', `sqlite://${dir}/c.db`);

const production = (over: { secret?: string; http?: string; provider?: string } = {}) => `
http: { public_base: "https://auth.example.com/"${over.http ?? ''} }
database: { url_file: ${dbUrl} }
secrets: { encryption_key_file: ${encryption}, keys: [{ kid: rs1, key_file: ${key} }] }
matrix: { homeserver: example.com, endpoint: "http://synapse:8008/", secret_file: ${over.secret ?? longSecret} }
upstream:
  providers:
    - { id: campus, kind: cas, name: Campus, server_url: "https://cas.example.edu/cas"${over.provider ?? ', slo_allowed_from: [10.0.0.0/8]'} }
`;
const problems = (yaml: string): string[] => {
  try {
    parseConfig(yaml, gatewayConfigSchema);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

describe('production config hardening', () => {
  it('accepts the production shape', () => {
    expect(problems(production())).toEqual([]);
  });

  it('F7: refuses a matrix.secret shorter than 32 characters outside dev_mode', () => {
    expect(problems(production({ secret: shortSecret }))).toEqual([expect.stringMatching(/^matrix\.secret: must be at least 32 characters/)]);
  });

  it('F12: refuses CAS single logout without slo_allowed_from, unless turned off', () => {
    expect(problems(production({ provider: '' }))).toEqual([expect.stringMatching(/^upstream\.providers\[0\]\.slo_allowed_from: required with single_logout/)]);
    expect(problems(production({ provider: ', single_logout: false' }))).toEqual([]);
    expect(problems(production({ provider: ', slo_allowed_from: ["0.0.0.0/0", "::/0"]' }))).toEqual([]);
  });

  it('moves /metrics to a loopback listener by default outside dev_mode', () => {
    expect(parseConfig(production(), gatewayConfigSchema).http.metrics_listen).toBe('127.0.0.1:9090');
    expect(parseConfig(production({ http: ', metrics_listen: "0.0.0.0:9100"' }), gatewayConfigSchema).http.metrics_listen).toBe('0.0.0.0:9100');
    expect(parseConfig(production({ http: ', metrics_listen: public' }), gatewayConfigSchema).http.metrics_listen).toBeUndefined();
  });

  it('F3: trust_proxy takes true (one hop), a hop count or a list of proxies', () => {
    expect(parseConfig(production({ http: ', trust_proxy: true' }), gatewayConfigSchema).http.trust_proxy).toBe(true);
    expect(parseConfig(production({ http: ', trust_proxy: 2' }), gatewayConfigSchema).http.trust_proxy).toBe(2);
    expect(parseConfig(production({ http: ', trust_proxy: [10.0.0.0/8, loopback, 192.0.2.1]' }), gatewayConfigSchema).http.trust_proxy).toEqual(['10.0.0.0/8', 'loopback', '192.0.2.1']);
    expect(problems(production({ http: ', trust_proxy: [10.0.0.0/33]' }))).toEqual([expect.stringMatching(/^http\.trust_proxy/)]);
  });
});
