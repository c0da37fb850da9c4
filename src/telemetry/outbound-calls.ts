import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Histogram } from 'prom-client';
import { inSpan, traceHeaders } from './tracer.js';

/**
 * Calls Causeway makes to other systems, timed for Prometheus and traced: the upstream identity
 * providers and the homeserver. The histograms live here, not in a Nest provider, because the
 * connectors and the homeserver client are built by plain factories (and by `causeway doctor`);
 * MetricsService adds them to the registry it serves.
 */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const upstreamRequestDuration = new Histogram({
  name: 'causeway_upstream_request_duration_seconds',
  help: 'Calls to upstream identity providers, by provider, kind (discovery, token, userinfo, api, saml_metadata, cas_validate) and outcome (ok, error)',
  labelNames: ['provider', 'kind', 'outcome'] as const,
  buckets: SECONDS,
  registers: [],
});

export const homeserverRequestDuration = new Histogram({
  name: 'causeway_homeserver_request_duration_seconds',
  help: 'Calls to the homeserver, by endpoint (path with user and device ids as placeholders), method and outcome (2xx, 4xx, 5xx, error)',
  labelNames: ['endpoint', 'method', 'outcome'] as const,
  buckets: SECONDS,
  registers: [],
});

export type UpstreamCallKind = 'discovery' | 'token' | 'userinfo' | 'api' | 'saml_metadata' | 'cas_validate';

/** One call to an upstream IdP: a span `upstream.<kind>` (its HTTP request is a child span) and a latency sample. */
export function upstreamCall<T>(provider: string, kind: UpstreamCallKind, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const observe = (outcome: 'ok' | 'error') => upstreamRequestDuration.observe({ provider, kind, outcome }, (performance.now() - started) / 1000);
  return inSpan(
    `upstream.${kind}`,
    { 'causeway.provider': provider, 'causeway.upstream.call': kind },
    async () => {
      try {
        const result = await fn();
        observe('ok');
        return result;
      } catch (err) {
        observe('error');
        throw err;
      }
    },
    SpanKind.CLIENT,
  );
}

/**
 * The metric label of a homeserver path: no query, user ids and device ids replaced, so that the
 * label has a handful of values (`/_synapse/admin/v2/users/{user_id}/devices/{device_id}`).
 */
export function homeserverEndpoint(path: string): string {
  const p = `/${path.split('?')[0]!.replace(/^\//, '')}`;
  return p.replace(/\/(%40|@)[^/]*/g, '/{user_id}').replace(/\/devices\/[^/]+/g, '/devices/{device_id}');
}

/**
 * One homeserver HTTP call: a client span (W3C trace context passed on in the headers `send` gets)
 * and a latency sample labelled with the status class.
 */
export function homeserverCall<R extends { status: number }>(method: string, path: string, send: (headers: Record<string, string>) => Promise<R>): Promise<R> {
  const endpoint = homeserverEndpoint(path);
  const started = performance.now();
  const observe = (outcome: string) => homeserverRequestDuration.observe({ endpoint, method, outcome }, (performance.now() - started) / 1000);
  const attributes = { 'http.request.method': method, 'url.path': endpoint };
  return inSpan(
    `homeserver ${method} ${endpoint}`,
    attributes,
    async (span) => {
      try {
        const r = await send(traceHeaders());
        span?.setAttribute('http.response.status_code', r.status);
        if (r.status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
        observe(`${Math.floor(r.status / 100)}xx`);
        return r;
      } catch (err) {
        observe('error');
        throw err;
      }
    },
    SpanKind.CLIENT,
  );
}
