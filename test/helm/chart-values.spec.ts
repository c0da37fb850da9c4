// Bad values fail at `helm template` / `helm install` time with a message that says what to change:
// values.schema.json for single values (including the whole gateway config), the chart's own checks for
// rules that span several values.
import { describe, expect, it } from '@jest/globals';
import { CHART, PRODUCTION_VALUES, helm, template } from './chart.js';

const OIDC_ONLY = { upstream: { providers: [{ id: 'corp', kind: 'oidc', name: 'Corp', issuer: 'https://idp.example/', client_id: 'c', client_secret_file: '/run/secrets/idp/client-secret' }] } };

describe('values.schema.json refuses', () => {
  it.each<[string, object, string[]]>([
    ['zero replicas', { replicaCount: 0 }, ["'/replicaCount'", 'minimum']],
    ['an unknown top-level key', { replicas: 3 }, ["additional properties 'replicas' not allowed"]],
    ['a bad pull policy', { image: { pullPolicy: 'Sometimes' } }, ["'/image/pullPolicy'", "'Always', 'IfNotPresent', 'Never'"]],
    ['a malformed digest', { image: { digest: 'sha256:abc' } }, ["'/image/digest'"]],
    ['a privileged container port', { containerPort: 80 }, ["'/containerPort'", 'minimum']],
    ['an ExternalName service', { service: { type: 'ExternalName' } }, ["'/service/type'"]],
    ['a lower-case pathType', { ingress: { enabled: true, hosts: [{ host: 'auth.example.com', paths: [{ path: '/', pathType: 'prefix' }] }] } }, ["'/ingress/hosts/0/paths/0/pathType'", "'Prefix', 'Exact', 'ImplementationSpecific'"]],
    ['an ingress without hosts', { ingress: { enabled: true, hosts: [] } }, ["'/ingress/hosts'", 'minItems']],
    ['a short encryption key (without echoing it)', { secrets: { encryptionKey: { value: 'short' } } }, ["'/secrets/encryptionKey/value'", 'minLength: got 5, want 32']],
    ['an unknown key in a secret reference', { secrets: { redisUrl: { existingSecret: 'r', keys: 'url' } } }, ["'/secrets/redisUrl'", "additional properties 'keys' not allowed"]],
    ['a grace period shorter than the shutdown budget', { terminationGracePeriodSeconds: 20 }, ["'/terminationGracePeriodSeconds'", 'minimum']],
    // The gateway config itself, checked against the schema generated from src/config.
    ['a misspelt config key', { config: { http: { publc_base: 'https://a/' }, matrix: { homeserver: 'a', endpoint: 'http://s/' }, ...OIDC_ONLY } }, ["'/config/http'", "additional properties 'publc_base' not allowed"]],
    ['replicas in the config (the chart sets it)', { config: { replicas: 2, http: { public_base: 'https://a/' }, matrix: { homeserver: 'a', endpoint: 'http://s/' }, ...OIDC_ONLY } }, ["'/config'", "additional properties 'replicas' not allowed"]],
    ['a config without its required sections', { config: { dev_mode: true } }, ["'/config'", "missing properties 'http', 'matrix', 'upstream'"]],
    ['an unknown homeserver API', { config: { http: { public_base: 'https://a/' }, matrix: { homeserver: 'a', endpoint: 'http://s/', api: 'dendrite' }, ...OIDC_ONLY } }, ["'/config/matrix/api'", "'synapse-mas', 'synapse-admin'"]],
    ['a wrongly typed config value', { config: { http: { public_base: 'https://a/', body_limit: 'lots' }, matrix: { homeserver: 'a', endpoint: 'http://s/' }, ...OIDC_ONLY } }, ["'/config/http/body_limit'", 'integer']],
  ])('%s', (_name, values, messages) => {
    const r = template({ values: [values] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    for (const m of messages) expect(r.stderr).toContain(m);
    expect(r.stderr).not.toContain('short\''); // the refused secret is not echoed
  });

  it('at `helm install` time too', () => {
    const r = helm(['install', 'causeway', CHART, '--dry-run=client', '--set', 'replicaCount=0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("'/replicaCount'");
  });
});

describe('the chart refuses rules that span several values', () => {
  const prod = (values: object) => template({ files: [PRODUCTION_VALUES], values: [values] });
  it.each<[string, () => ReturnType<typeof template>, string]>([
    [
      'several replicas without Redis',
      () => template({ values: [{ replicaCount: 3, secrets: { databaseUrl: { value: 'postgres://db/cw' } } }] }),
      'causeway: replicaCount is 3, but more than one replica needs Redis (login state and the event bus are shared through it): set secrets.redisUrl.existingSecret (or secrets.redisUrl.value), or config.redis',
    ],
    [
      'an autoscaler that may add replicas without Redis',
      () => template({ values: [{ autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 4 }, secrets: { databaseUrl: { value: 'postgres://db/cw' } } }] }),
      'causeway: autoscaling.maxReplicas is 4, but more than one replica needs Redis',
    ],
    [
      'several replicas on SQLite',
      () => template({ values: [{ replicaCount: 2, secrets: { redisUrl: { value: 'redis://r:6379' } } }] }),
      'causeway: replicaCount is 2, but more than one replica needs PostgreSQL (SQLite is one file in one pod): set secrets.databaseUrl.existingSecret (or secrets.databaseUrl.value)',
    ],
    [
      'a grace period that does not cover preStop + 25 s',
      () => template({ values: [{ preStopSleepSeconds: 10, terminationGracePeriodSeconds: 30 }] }),
      'causeway: terminationGracePeriodSeconds (30) must exceed preStopSleepSeconds (10) + the 25 s Causeway takes to shut down gracefully, i.e. be at least 36',
    ],
    [
      'a secret given both in secrets: and in config:',
      () => prod({ config: { matrix: { secret_env: 'HS_SECRET' } } }),
      'causeway: secrets.homeserverSecret is set, but config.matrix.secret also gives that secret (as secret, secret_file or secret_env); keep one of them',
    ],
    [
      'signing keys given both in secrets: and in config:',
      () => prod({ config: { secrets: { keys: [{ kid: 'k', key_file: '/k.pem' }] } } }),
      'causeway: secrets.signingKeys[0] is set, but config.secrets.keys also lists signing keys; keep one of them',
    ],
    ['a kid twice', () => template({ values: [{ secrets: { signingKeys: [{ kid: 'a' }, { kid: 'a', algorithm: 'ecdsa' }] } }] }), 'causeway: secrets.signingKeys has kid "a" twice'],
    [
      'a database URL that is not PostgreSQL (without echoing it)',
      () => template({ values: [{ secrets: { databaseUrl: { value: 'mysql://user:hunter2@db/cw' } } }] }),
      'causeway: secrets.databaseUrl.value must be a URL matching ^postgres(ql)?://.+ (value not shown)',
    ],
    [
      'a signing key value that is not PEM (without echoing it)',
      () => template({ values: [{ secrets: { signingKeys: [{ kid: 'rs1', value: 'hunter2' }] } }] }),
      'causeway: secrets.signingKeys[0].value is not a PEM private key (value not shown)',
    ],
    ['an autoscaler whose minimum is above its maximum', () => prod({ autoscaling: { minReplicas: 12 } }), 'causeway: autoscaling.minReplicas (12) is above autoscaling.maxReplicas (10)'],
    ['a persistent volume with PostgreSQL', () => prod({ persistence: { enabled: true } }), 'causeway: persistence.enabled is for the SQLite file; with PostgreSQL'],
    [
      'two chart-created secrets under one key',
      () => template({ values: [{ secrets: { adminToken: { value: 'a-long-enough-admin-token', key: 'encryption-key' } } }] }),
      'causeway: secrets.encryptionKey and secrets.adminToken would both be stored under key "encryption-key"',
    ],
  ])('%s', (_name, run, message) => {
    const r = run();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('hunter2');
  });
});
