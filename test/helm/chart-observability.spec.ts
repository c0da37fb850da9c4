// The chart's alerting rules, Grafana dashboard and `helm test` hook: rendered by `helm template`,
// valid against the Prometheus Operator's CRD schema, every PromQL expression parsed with Prometheus'
// own grammar (@prometheus-io/lezer-promql, as promtool would reject a syntax error), and every
// metric they name one that Causeway exports.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { ROOT } from '../support/causeway.js';
import { PRODUCTION_VALUES, find, isHook, render, type Manifest } from './chart.js';
import { strict, validate } from './kube-schemas.js';

/** Syntax errors of a PromQL expression (empty when Prometheus' grammar accepts it). */
function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`syntax error at ${n.from}: …${expr.slice(Math.max(0, n.from - 20), n.from + 20)}…`);
    },
  });
  return errors;
}

/** Every `causeway_*` metric name written in Causeway's sources (what /metrics can export). */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/['"`](causeway_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src'));
  return names;
}
const EXPORTED = exportedMetrics();
/** The metrics an expression reads, histogram series reduced to their family. */
const metricsOf = (expr: string) => [...new Set([...expr.matchAll(/\b(causeway_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, '')))];

const production = render({ files: [PRODUCTION_VALUES] });
const rule = find(production, 'PrometheusRule');
const rules = rule.spec.groups.flatMap((g: { rules: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[] }) => g.rules);

describe('PrometheusRule', () => {
  it('is off by default and valid against the CRD schema (no unknown field) when on', async () => {
    expect(render().filter((d) => d.kind === 'PrometheusRule')).toEqual([]);
    expect(await validate([rule])).toEqual([]);
    expect(strict([rule])).toEqual([]);
    expect(rule.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(rule.metadata.namespace).toBe('auth');
  });

  it('alerts on the homeserver, dead letters, the outbox backlog, 5xx, sign-in failures per provider and stale IdP metadata', () => {
    expect(rules.map((r: { alert: string }) => r.alert)).toEqual([
      'CausewayHomeserverUnreachable',
      'CausewayDeadLettersGrowing',
      'CausewayOutboxBacklogOld',
      'CausewayHttp5xxRatio',
      'CausewayLoginFailureRatio',
      'CausewayIdpMetadataStale',
    ]);
    for (const r of rules) {
      expect(r.labels.severity).toMatch(/^(critical|warning)$/);
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toBeTruthy();
    }
    // Per provider, tuned by the production values.
    const login = rules.find((r: { alert: string }) => r.alert === 'CausewayLoginFailureRatio')!;
    expect(login.expr).toMatch(/sum by \(provider\)/);
    expect(login.expr).toContain('> 0.3 and');
    expect(login.annotations.summary).toContain('{{ $labels.provider }}');
  });

  it('every expression parses as PromQL, reads metrics Causeway exports, and only this release’s series', () => {
    for (const r of rules) {
      expect([r.alert, promqlErrors(r.expr)]).toEqual([r.alert, []]);
      const metrics = metricsOf(r.expr);
      expect(metrics.length).toBeGreaterThan(0);
      for (const m of metrics) expect([r.alert, m, EXPORTED.has(m)]).toEqual([r.alert, m, true]);
      // Every selector of a Causeway series names the release's job and namespace.
      const selectors = [...r.expr.matchAll(/causeway_[a-z0-9_]+\{([^}]*)\}/g)].map((m) => m[1]);
      expect(selectors.length).toBe(metrics.length === 0 ? 0 : selectors.length);
      for (const s of selectors) expect(s).toContain('job="causeway", namespace="auth"');
    }
  });

  it('the syntax check can fail, and the metric check catches a misspelt metric', () => {
    expect(promqlErrors('sum(rate(causeway_logins_total[5m])')).not.toEqual([]);
    expect(metricsOf('rate(causeway_login_total[5m])').every((m) => EXPORTED.has(m))).toBe(false);
  });

  it('alerts can be turned off or tuned, the selector replaced, rules added', () => {
    const docs = render({
      values: [
        {
          metrics: {
            prometheusRule: {
              enabled: true,
              selector: 'cluster="eu-1", app="causeway"',
              alerts: { homeserverUnreachable: { enabled: false }, idpMetadataStale: { seconds: 7200 } },
              additionalRules: [{ record: 'causeway:logins:rate5m', expr: 'sum by (provider) (rate(causeway_logins_total[5m]))' }],
            },
          },
        },
      ],
    });
    const own = find(docs, 'PrometheusRule').spec.groups[0].rules as { alert?: string; record?: string; expr: string }[];
    expect(own.map((r) => r.alert ?? r.record)).toEqual([
      'CausewayDeadLettersGrowing',
      'CausewayOutboxBacklogOld',
      'CausewayHttp5xxRatio',
      'CausewayLoginFailureRatio',
      'CausewayIdpMetadataStale',
      'causeway:logins:rate5m',
    ]);
    expect(own.find((r) => r.alert === 'CausewayIdpMetadataStale')!.expr).toBe('max by (provider) (causeway_saml_metadata_age_seconds{cluster="eu-1", app="causeway"}) > 7200');
  });
});

describe('Grafana dashboard', () => {
  const configMap = production.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'causeway-dashboard')!;
  const dashboard = JSON.parse(configMap.data['causeway.json']) as {
    uid: string;
    title: string;
    templating: { list: { name: string; type: string }[] };
    panels: { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('is off by default; a ConfigMap with the sidecar label when on, valid as a Kubernetes object', async () => {
    expect(render().filter((d) => d.metadata.name === 'causeway-dashboard')).toEqual([]);
    expect(configMap.metadata).toMatchObject({ namespace: 'monitoring', labels: { grafana_dashboard: '1' }, annotations: { grafana_folder: 'Causeway' } });
    expect(await validate([configMap])).toEqual([]);
    expect(strict([configMap])).toEqual([]);
  });

  it('a dashboard with a data source, namespace and release picker, unique panel ids', () => {
    expect(dashboard).toMatchObject({ uid: 'causeway-overview', title: 'Causeway' });
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['namespace', 'query'],
      ['job', 'query'],
    ]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
  });

  it('charts every metric of the issue; each query parses as PromQL and reads metrics Causeway exports', () => {
    const read = new Set(exprs.flatMap((e) => metricsOf(e.expr)));
    for (const m of [
      'causeway_logins_total',
      'causeway_tokens_issued_total',
      'causeway_upstream_request_duration_seconds',
      'causeway_homeserver_request_duration_seconds',
      'causeway_introspection_cache_lookups_total',
      'causeway_saml_metadata_age_seconds',
      'causeway_events_dead_letters',
      'causeway_events_oldest_undelivered_seconds',
      'causeway_http_request_duration_seconds',
      'causeway_build_info',
    ]) {
      expect([m, read.has(m)]).toEqual([m, true]);
    }
    for (const { panel, expr } of exprs) {
      // Grafana's variables, as Grafana substitutes them before Prometheus sees the query.
      const query = expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', 'auth').replaceAll('$job', 'causeway');
      expect([panel, promqlErrors(query)]).toEqual([panel, []]);
      for (const m of metricsOf(query)) expect([panel, m, EXPORTED.has(m)]).toEqual([panel, m, true]);
    }
  });
});

describe('helm test', () => {
  it('a test hook Pod that asks the Service for /health/ready and fails on anything but 200', () => {
    const pod = production.find((d: Manifest) => d.kind === 'Pod' && isHook(d))!;
    expect(pod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    expect(pod.spec.restartPolicy).toBe('Never');
    const script = pod.spec.containers[0].command.join(' ');
    const service = find(production, 'Service');
    expect(script).toContain(`http://${service.metadata.name}:${service.spec.ports.find((p: { name: string }) => p.name === 'http').port}/health/ready`);
    expect(script).toMatch(/process\.exit\(r\.status === 200 \? 0 : 1\)/);
  });
});
