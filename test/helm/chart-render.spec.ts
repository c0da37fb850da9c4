// The chart renders valid Kubernetes objects for the trial defaults and for a production install, with
// the settings operators rely on (security context, probes, graceful termination, hooks, wiring).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART, PRODUCTION_VALUES, find, isHook, lint, notes, render, type Manifest } from './chart.js';
import { strict, validate } from './kube-schemas.js';

const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string; version: string };
const pkg = JSON.parse(readFileSync(join(CHART, '../../package.json'), 'utf8')) as { version: string };

const trial = render();
const production = render({ files: [PRODUCTION_VALUES] });
const kinds = (docs: Manifest[]) => docs.map((d) => `${d.kind}${isHook(d) ? ' (hook)' : ''}`).sort();
const podSpec = (docs: Manifest[]) => find(docs, 'Deployment').spec.template.spec;
const container = (docs: Manifest[]) => podSpec(docs).containers[0];

describe('helm lint', () => {
  it.each([
    ['default values', {}],
    ['production values', { files: [PRODUCTION_VALUES] }],
  ])('passes --strict with %s', (_name, opts) => {
    const r = lint(opts);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.code).toBe(0);
  });
});

describe('Kubernetes API schemas', () => {
  it.each([
    ['default values', trial],
    ['production values', production],
    ['Kubernetes 1.29 (preStop exec instead of sleep)', render({ files: [PRODUCTION_VALUES], kubeVersion: '1.29.0' })],
    ['SQLite on a persistent volume', render({ values: [{ persistence: { enabled: true, storageClass: 'fast' } }] })],
  ])('every object rendered with %s is valid and has no unknown field', async (_name, docs) => {
    expect(await validate(docs)).toEqual([]);
    expect(strict(docs)).toEqual([]);
  });

  it('the strict check does catch a misspelt field (the check can fail)', () => {
    const docs = structuredClone(production);
    container(docs).securityContext.readOnlyRootFileSystem = true;
    find(docs, 'ServiceMonitor').spec.endpoints[0].pathh = '/metrics';
    const errors = strict(docs);
    expect(errors).toEqual([
      expect.stringMatching(/^Deployment\/causeway: .*'"readOnlyRootFileSystem"' does not exist/),
      expect.stringMatching(/^ServiceMonitor\/causeway: .*'"pathh"' does not exist/),
    ]);
  });

  it('the schema check does catch a wrong type', async () => {
    const docs = structuredClone(trial);
    find(docs, 'Deployment').spec.replicas = 'three';
    expect(await validate(docs)).toEqual([expect.stringMatching(/^Deployment\/causeway: .*replicas must be integer/)]);
  });
});

describe('what is rendered', () => {
  it('default values: a one-replica trial with a generated Secret and no migration Job', () => {
    expect(kinds(trial)).toEqual(['ConfigMap', 'Deployment', 'Pod (hook)', 'Secret (hook)', 'Service', 'ServiceAccount']);
    const secret = find(trial, 'Secret');
    expect(Object.keys(secret.data).sort()).toEqual(['encryption-key', 'homeserver-secret', 'rs1.pem']);
    const pem = Buffer.from(secret.data['rs1.pem'], 'base64').toString();
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(Buffer.from(secret.data['encryption-key'], 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
  });

  it('production values: HPA, PDB, Ingress with TLS, ServiceMonitor, PrometheusRule, dashboard, NetworkPolicy and the migration Job', () => {
    expect(kinds(production)).toEqual([
      'ConfigMap',
      'ConfigMap',
      'ConfigMap (hook)',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'Job (hook)',
      'NetworkPolicy',
      'Pod (hook)',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const deployment = find(production, 'Deployment');
    expect(deployment.spec.replicas).toBeUndefined(); // the HPA owns it
    expect(find(production, 'HorizontalPodAutoscaler').spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 10,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'causeway' },
    });
    expect(find(production, 'PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: deployment.spec.selector.matchLabels },
    });
    const ingress = find(production, 'Ingress').spec;
    expect(ingress.ingressClassName).toBe('nginx');
    expect(ingress.tls).toEqual([{ hosts: ['auth.example.com'], secretName: 'causeway-tls' }]);
    expect(ingress.rules[0].http.paths[0].backend).toEqual({ service: { name: 'causeway', port: { number: 80 } } });
    const sm = find(production, 'ServiceMonitor');
    expect(sm.metadata.labels).toMatchObject({ release: 'prometheus' });
    // Metrics are scraped from their own port, never the one the Ingress forwards to.
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s', honorLabels: false }]);
    // The ServiceMonitor selects the Service, whose port is named as the endpoint says.
    const service = find(production, 'Service');
    expect(service.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toEqual(['http', 'metrics']);
    // No chart-created Secret: every secret comes from an existingSecret.
    expect(production.filter((d) => d.kind === 'Secret')).toEqual([]);
  });

  it('the Service and the PDB select exactly the server pods', () => {
    const deployment = find(production, 'Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    expect(podLabels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(podLabels).toMatchObject(find(production, 'Service').spec.selector);
    // The migration Job's pods are not behind the Service.
    const jobLabels = find(production, 'Job').spec.template.metadata.labels;
    expect(jobLabels['app.kubernetes.io/component']).toBe('migration');
    expect(jobLabels).not.toMatchObject(find(production, 'Service').spec.selector);
  });

  it('standard labels on every object, version from the appVersion', () => {
    for (const d of [...trial, ...production]) {
      expect(d.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'causeway',
        'app.kubernetes.io/instance': 'causeway',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': chart.appVersion,
        'helm.sh/chart': `causeway-${chart.version}`,
      });
    }
  });
});

describe('the pods', () => {
  it('run as non-root with a read-only root filesystem and a writable /tmp', () => {
    for (const docs of [trial, production]) {
      const spec = podSpec(docs);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container(docs).securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(container(docs).volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
      expect(spec.automountServiceAccountToken).toBe(false);
    }
  });

  it('have resource requests and limits', () => {
    expect(container(trial).resources).toEqual({ requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    expect(container(production).resources.limits).toEqual({ cpu: '2', memory: '768Mi' });
  });

  it('probe /health/live (startup, liveness) and /health/ready (readiness) on the http port', () => {
    const c = container(trial);
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
  });

  it('drain before SIGTERM and get more than the 25 s shutdown budget after it', () => {
    const spec = podSpec(trial);
    expect(spec.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(5 + 25);
    // Before Kubernetes 1.30 there is no sleep action: the image's sleep binary does it.
    const old = render({ kubeVersion: '1.29.0' });
    expect(podSpec(old).containers[0].lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '5'] } } });
  });

  it('roll when the config changes, and not otherwise', () => {
    const annotations = (docs: Manifest[]) => find(docs, 'Deployment').spec.template.metadata.annotations;
    const base = render({ files: [PRODUCTION_VALUES] });
    const again = render({ files: [PRODUCTION_VALUES] });
    const changed = render({ files: [PRODUCTION_VALUES], values: [{ config: { logging: { level: 'debug' } } }] });
    const otherSecret = render({ files: [PRODUCTION_VALUES], values: [{ secrets: { redisUrl: { existingSecret: 'redis-2' } } }] });
    expect(annotations(again)).toEqual(annotations(base));
    expect(annotations(changed)['checksum/config']).not.toBe(annotations(base)['checksum/config']);
    expect(annotations(otherSecret)['checksum/secrets']).not.toBe(annotations(base)['checksum/secrets']);
  });

  it('use image.tag, defaulting to the appVersion (= package.json version), or a digest', () => {
    expect(chart.appVersion).toBe(pkg.version);
    expect(container(trial).image).toBe(`ghcr.io/causeway/causeway:${chart.appVersion}`);
    expect(container(render({ values: [{ image: { repository: 'registry.example/cw', tag: '9.9.9' } }] })).image).toBe('registry.example/cw:9.9.9');
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(container(render({ values: [{ image: { digest } }] })).image).toBe(`ghcr.io/causeway/causeway@${digest}`);
  });

  it('mount every secret as a file from its Secret and key', () => {
    const projected = podSpec(production).volumes.find((v: { name: string }) => v.name === 'secrets').projected.sources;
    expect(projected.map((s: { secret: object }) => s.secret)).toEqual([
      { name: 'causeway-secrets', items: [{ key: 'encryption-key', path: 'encryption-key' }] },
      { name: 'causeway-secrets', items: [{ key: 'homeserver-secret', path: 'homeserver-secret' }] },
      { name: 'causeway-secrets', items: [{ key: 'admin-token', path: 'admin-token' }] },
      { name: 'causeway-database', items: [{ key: 'url', path: 'database-url' }] },
      { name: 'causeway-redis', items: [{ key: 'url', path: 'redis-url' }] },
      { name: 'causeway-signing-keys', items: [{ key: 'rs1.pem', path: 'signing-keys/rs1.pem' }] },
      { name: 'causeway-signing-keys', items: [{ key: 'es1.pem', path: 'signing-keys/es1.pem' }] },
    ]);
    expect(container(production).volumeMounts).toContainEqual({ name: 'secrets', mountPath: '/run/secrets/causeway', readOnly: true });
  });

  it('SQLite on a persistent volume: one claim, kept on uninstall, pods replaced rather than surged', () => {
    const docs = render({ values: [{ persistence: { enabled: true, size: '5Gi' } }] });
    const pvc = find(docs, 'PersistentVolumeClaim');
    expect(pvc.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(pvc.spec.resources.requests.storage).toBe('5Gi');
    expect(find(docs, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
    expect(podSpec(docs).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'causeway-data' } });
  });
});

describe('the migration Job', () => {
  it('runs `causeway migrate` before install and upgrade, with the same config and secrets as the pods', () => {
    const job = find(production, 'Job');
    expect(job.metadata.name).toBe('causeway-migrate');
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers[0].args).toEqual(['migrate', '--config', '/etc/causeway/gateway.yaml']);
    expect(pod.containers[0].image).toBe(container(production).image);
    expect(pod.containers[0].securityContext).toEqual(container(production).securityContext);
    // Its config is a hook too (it runs before the release's ConfigMap exists), created before the Job.
    const cm = find(production, 'ConfigMap', 'causeway-migrate');
    expect(cm.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(cm.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(0);
    expect(cm.data).toEqual(find(production, 'ConfigMap', 'causeway').data);
    expect(pod.volumes.find((v: { name: string }) => v.name === 'config').configMap.name).toBe('causeway-migrate');
    const secretsOf = (spec: { volumes: { name: string; projected?: unknown }[] }) => spec.volumes.find((v) => v.name === 'secrets')!.projected;
    expect(secretsOf(pod)).toEqual(secretsOf(podSpec(production)));
  });

  it('the pods then skip migrating at start-up', () => {
    expect(parse(find(production, 'ConfigMap', 'causeway').data['gateway.yaml']).database.migrate_on_start).toBe(false);
  });

  it('is not rendered with SQLite (the server migrates its own file) nor when disabled', () => {
    expect(trial.filter((d) => d.kind === 'Job')).toEqual([]);
    const off = render({ files: [PRODUCTION_VALUES], values: [{ migration: { enabled: false } }] });
    expect(off.filter((d) => d.kind === 'Job')).toEqual([]);
    expect(parse(find(off, 'ConfigMap', 'causeway').data['gateway.yaml']).database.migrate_on_start).toBeUndefined();
  });

  it('the chart-created Secret is a hook that exists before the Job', () => {
    const docs = render({ files: [PRODUCTION_VALUES], values: [{ secrets: { databaseUrl: { existingSecret: '', value: 'postgres://cw:pw@db:5432/cw' } } }] });
    const secret = find(docs, 'Secret');
    expect(Buffer.from(secret.data.url, 'base64').toString()).toBe('postgres://cw:pw@db:5432/cw');
    expect(secret.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(secret.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(Number(find(docs, 'Job').metadata.annotations!['helm.sh/hook-weight']));
  });
});

describe('NetworkPolicy', () => {
  it('admits the http port from the listed peers and the chart’s own pods; egress open unless rules are given', () => {
    const np = find(production, 'NetworkPolicy').spec;
    expect(np.policyTypes).toEqual(['Ingress']);
    expect(np.ingress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
    expect(np.ingress[0].from).toHaveLength(4);
    expect(np.ingress[0].from[0]).toEqual({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'causeway', 'app.kubernetes.io/instance': 'causeway' } } });
    // The metrics port has its own rule: any source by default, networkPolicy.metricsFrom when given.
    expect(np.ingress[1]).toEqual({ ports: [{ port: 9090, protocol: 'TCP' }] });
    const prometheusOnly = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const scraped = find(render({ files: [PRODUCTION_VALUES], values: [{ networkPolicy: { metricsFrom: [prometheusOnly] } }] }), 'NetworkPolicy').spec;
    expect(scraped.ingress[1]).toEqual({ ports: [{ port: 9090, protocol: 'TCP' }], from: [prometheusOnly] });
    const closed = find(render({ files: [PRODUCTION_VALUES], values: [{ networkPolicy: { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] } }] }), 'NetworkPolicy').spec;
    expect(closed.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(closed.egress[0].ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(closed.egress[1]).toEqual({ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] });
  });
});

describe('NOTES.txt', () => {
  it('tells the issuer and the exact Synapse block, with the in-cluster endpoint and where the secret is', () => {
    const text = notes({ files: [PRODUCTION_VALUES] });
    expect(text).toContain('https://auth.example.com/\n');
    expect(text).toContain(
      [
        '     matrix_authentication_service:',
        '       enabled: true',
        '       endpoint: http://causeway.auth.svc.cluster.local:80/',
        '       secret_path: /path/to/causeway-homeserver-secret',
      ].join('\n'),
    );
    expect(text).toContain("kubectl get secret -n auth causeway-secrets -o jsonpath='{.data.homeserver-secret}' | base64 -d");
    expect(text).toContain('server_name must be "example.com"');
  });

  it('for the trial: port-forward, no homeserver yet, the generated secret, and warnings about dev mode and SQLite', () => {
    const text = notes();
    expect(text).toContain('kubectl port-forward -n auth svc/causeway 8080:80');
    expect(text).toContain('talks to no homeserver (config matrix.api: none');
    expect(text).toContain('     matrix_authentication_service:\n       enabled: true\n       endpoint: http://causeway.auth.svc.cluster.local:80/');
    expect(text).not.toContain('msc3861');
    expect(text).toContain("kubectl get secret -n auth causeway -o jsonpath='{.data.homeserver-secret}'");
    expect(text).toContain('dev_mode is on');
    expect(text).toContain('SQLite database lives on an emptyDir');
    // The default image.repository: nothing is published there yet.
    expect(text).toContain('No Causeway image is published at ghcr.io/causeway/causeway yet: build the Dockerfile, push it to your');
  });

  it('for older Synapse (matrix.api synapse-admin): the msc3861 block naming the introspection client', () => {
    const text = notes({
      files: [PRODUCTION_VALUES],
      values: [
        {
          config: {
            matrix: { api: 'synapse-admin' },
            clients: [{ client_id: 'synapse', client_auth_method: 'client_secret_basic', client_secret_file: '/run/secrets/idp/client-secret', introspection: true }],
          },
        },
      ],
    });
    expect(text).toContain(
      [
        '     experimental_features:',
        '       msc3861:',
        '         enabled: true',
        '         issuer: https://auth.example.com/',
        '         introspection_endpoint: http://causeway.auth.svc.cluster.local:80/oauth2/introspect',
        '         client_id: synapse',
        '         client_auth_method: client_secret_basic',
      ].join('\n'),
    );
    expect(text).toContain('admin_token_path: /path/to/causeway-homeserver-secret');
  });
});
