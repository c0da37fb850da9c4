// Chart and app cannot drift: the gateway.yaml the chart renders, with the files its pods mount, is
// checked by Causeway itself (`causeway config check`, `causeway migrate` as the Job runs it, and for
// the trial a real `causeway serve`), and values.schema.json carries the config schema of src/config.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { MAIN, ROOT, runCli } from '../support/causeway.js';
import { freshDatabase, PG_URL, TEST_DBS } from '../support/databases.js';
import { freePort } from '../support/ports.js';
import { loadSigningKey } from '../../src/crypto/keys.js';
import { PRODUCTION_VALUES, find, render, type Manifest } from './chart.js';
import { localConfig, podFiles, type PodFiles, type SecretStore } from './pod-files.js';

const pem = (kind: 'rsa' | 'ec') =>
  (kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;

/** The Secrets ci/production-values.yaml expects the operator to have created. */
function operatorSecrets(databaseUrl = 'postgres://causeway:pw@postgres.db.svc:5432/causeway'): SecretStore {
  return {
    'causeway-secrets': {
      'encryption-key': randomBytes(32).toString('base64url'),
      'homeserver-secret': randomBytes(24).toString('base64url'),
      'admin-token': randomBytes(24).toString('base64url'),
    },
    'causeway-signing-keys': { 'rs1.pem': pem('rsa'), 'es1.pem': pem('ec') },
    'causeway-database': { url: databaseUrl },
    'causeway-redis': { url: 'redis://redis.db.svc:6379' },
    'causeway-idp': { 'client-secret': 'the-idp-client-secret\n' },
  };
}

/** The values example of docs/operator/kubernetes.md. */
function readmeValues(): object {
  const guide = readFileSync(join(ROOT, 'docs/operator/kubernetes.md'), 'utf8');
  const block = /```yaml\n# values\.yaml\n([\s\S]*?)```/.exec(guide);
  if (!block) throw new Error('docs/operator/kubernetes.md has no ```yaml block starting with # values.yaml');
  return parse(block[1]!) as object;
}

const EXAMPLE = parse(readFileSync(join(ROOT, 'config/gateway.example.yaml'), 'utf8')) as Record<string, unknown>;

const cleanup: PodFiles[] = [];
afterAll(() => cleanup.forEach((f) => rmSync(f.root, { recursive: true, force: true })));

/** The server pod's files and its config as it would read them. */
function serverPod(docs: Manifest[], existing: SecretStore = {}) {
  const pod = find(docs, 'Deployment').spec.template.spec;
  const files = podFiles(docs, pod, existing);
  cleanup.push(files);
  const args: string[] = pod.containers[0].args;
  expect(args.slice(0, 2)).toEqual(['serve', '--config']);
  return { pod, files, configPath: args[2]!, workdir: files.host('/app/data').replace(/\/data$/, '') };
}

async function configCheck(files: PodFiles, configPath: string, workdir: string) {
  const { file } = localConfig(files, configPath);
  return runCli(['config', 'check', '--config', file], { cwd: workdir });
}

describe('the rendered gateway.yaml passes `causeway config check` with the files the pod mounts', () => {
  it.each([
    ['default values (the trial)', () => render(), {}],
    ['production values', () => render({ files: [PRODUCTION_VALUES] }), operatorSecrets()],
    ['config/gateway.example.yaml pasted as `config:`', () => render({ values: [{ config: EXAMPLE }] }), {}],
    ['the values example of docs/operator/kubernetes.md', () => render({ values: [readmeValues()] }), operatorSecrets()],
    [
      'production values for older Synapse (synapse-admin API, an introspection client)',
      () =>
        render({
          files: [PRODUCTION_VALUES],
          values: [
            {
              config: {
                matrix: { api: 'synapse-admin' },
                clients: [{ client_id: 'synapse', client_secret_file: '/run/secrets/idp/client-secret', introspection: true }],
              },
            },
          ],
        }),
      operatorSecrets(),
    ],
    [
      'trial values with secrets given as values and an ECDSA key',
      () =>
        render({
          values: [
            {
              secrets: {
                encryptionKey: { value: 'x'.repeat(40) },
                adminToken: { value: 'an-admin-token-0123456789' },
                signingKeys: [
                  { kid: 'rs1', value: pem('rsa') },
                  { kid: 'es1', algorithm: 'ecdsa' },
                ],
              },
            },
          ],
        }),
      {},
    ],
  ])('%s', async (_name, make, existing) => {
    const { files, configPath, workdir } = serverPod(make(), existing);
    const r = await configCheck(files, configPath, workdir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/valid/);
    expect(r.code).toBe(0);
  });

  it('the signing keys the chart generates (RSA and P-256) are keys Causeway signs with', async () => {
    const docs = render({ values: [{ secrets: { signingKeys: [{ kid: 'rs1' }, { kid: 'es1', algorithm: 'ecdsa' }] } }] });
    const { files, configPath } = serverPod(docs);
    const { config } = localConfig(files, configPath);
    const keys = (config.secrets as { keys: { kid: string; key_file: string }[] }).keys;
    const loaded = await Promise.all(keys.map((k) => loadSigningKey(k.kid, readFileSync(files.host(k.key_file), 'utf8'))));
    expect(loaded.map((k) => [k.kid, k.alg])).toEqual([
      ['rs1', 'RS256'],
      ['es1', 'ES256'],
    ]);
  });

  it('the chart sets replicas, the listen address and the secret files; the rest is the operator’s config', () => {
    const { files, configPath } = serverPod(render({ files: [PRODUCTION_VALUES] }), operatorSecrets());
    const config = parse(readFileSync(files.host(configPath), 'utf8'));
    const values = parse(readFileSync(PRODUCTION_VALUES, 'utf8'));
    expect(config.replicas).toBe(10); // autoscaling.maxReplicas
    expect(config.http).toEqual({ ...values.config.http, listen: '0.0.0.0:8080', metrics_listen: '0.0.0.0:9090' });
    expect(config.redis).toEqual({ key_prefix: 'causeway:', url_file: '/run/secrets/causeway/redis-url' });
    expect(config.matrix.secret_file).toBe('/run/secrets/causeway/homeserver-secret');
    expect(config.upstream).toEqual(values.config.upstream);
    expect(readFileSync(files.host(config.redis.url_file), 'utf8')).toBe('redis://redis.db.svc:6379');
  });

  it('a secret the config gives itself is left to it (nothing generated or mounted for it)', () => {
    // The example with Synapse wired in, as its comments show: the shared secret inline (dev_mode).
    const withSynapse = { ...EXAMPLE, matrix: { homeserver: 'localhost', api: 'synapse-mas', endpoint: 'http://synapse:8008/', secret: 'dev-only-shared-secret-change-me' } };
    const docs = render({ values: [{ config: withSynapse }] });
    const config = parse(find(docs, 'ConfigMap').data['gateway.yaml']);
    expect(config.matrix.secret).toBe('dev-only-shared-secret-change-me');
    expect(config.matrix.secret_file).toBeUndefined();
    expect(Object.keys(find(docs, 'Secret').data)).toEqual(['rs1.pem']);
  });

  it('a config the schema accepts but Causeway refuses is caught by the check (the check can fail)', async () => {
    // Cross-field rules live in the app only: here, the dev sign-in outside dev_mode.
    const docs = render({ files: [PRODUCTION_VALUES], values: [{ config: { upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Dev' }] } } }] });
    const { files, configPath, workdir } = serverPod(docs, operatorSecrets());
    const r = await configCheck(files, configPath, workdir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('upstream.providers[0].kind: the dev sign-in is refused unless dev_mode: true');
  });

  it('a volume naming a Secret key that does not exist is caught (the wiring is checked too)', () => {
    const secrets = operatorSecrets();
    delete secrets['causeway-signing-keys']!['es1.pem'];
    expect(() => serverPod(render({ files: [PRODUCTION_VALUES] }), secrets)).toThrow('Secret causeway-signing-keys has no key es1.pem');
  });
});

describe('values.schema.json', () => {
  it('carries the config schema generated from src/config (run `npm run helm:schema` after changing the config)', () => {
    const r = spawnSync(process.execPath, ['scripts/helm-schema.js', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the rendered config runs', () => {
  it('the trial starts with `causeway serve` on the rendered config and generated secrets, and stops on SIGTERM', async () => {
    const { files, configPath, workdir } = serverPod(render());
    const port = await freePort();
    const { file } = localConfig(files, configPath, `127.0.0.1:${port}`);
    const proc = spawn(process.execPath, [MAIN, 'serve', '--config', file], { cwd: workdir, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    proc.stdout.on('data', (c) => (logs += c));
    proc.stderr.on('data', (c) => (logs += c));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    try {
      let status = 0;
      for (let i = 0; i < 300 && proc.exitCode === null && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      if (status !== 200) throw new Error(`not ready:\n${logs}`);
      // The SQLite file is on the data volume (a relative path from WORKDIR /app).
      expect(readFileSync(join(files.host('/app/data'), 'causeway.db')).length).toBeGreaterThan(0);
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  (TEST_DBS.includes('postgres') ? it : it.skip)('the migration Job’s command migrates PostgreSQL with the production config', async () => {
    const db = await freshDatabase('postgres', '');
    try {
      const docs = render({ files: [PRODUCTION_VALUES], values: [{ config: { database: { schema: db.schema } } }] });
      const job = find(docs, 'Job').spec.template.spec;
      const files = podFiles(docs, job, operatorSecrets(PG_URL));
      cleanup.push(files);
      const args: string[] = job.containers[0].args;
      expect(args.slice(0, 2)).toEqual(['migrate', '--config']);
      const { file } = localConfig(files, args[2]!);
      const r = await runCli(['migrate', '--config', file], { cwd: files.root });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^applied: /);
      expect(r.code).toBe(0);
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM "${db.schema}".migrations`);
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await c.end();
      }
    } finally {
      await db.drop();
    }
  });
});
