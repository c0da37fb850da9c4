import { register } from 'node:module';
import { context, propagation, trace, type Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { TelemetryConfig } from '../config/sections/telemetry.config.js';
import { markTracingEnabled } from './tracer.js';
import { traceSqliteStatements } from './sqlite-spans.js';

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Installs the OpenTelemetry SDK when `telemetry.tracing.exporter` is `otlp`: spans batched to an
 * OTLP/HTTP (protobuf) collector, W3C trace context, parent-based sampling at `sample_ratio`, and
 * the instrumentations for PostgreSQL (pg), Redis (ioredis), fetch (undici: the IdP calls) and
 * SQLite. Must run before the server's modules are imported (main.ts imports server.js after it):
 * ioredis is loaded through an ESM import, which only a loader hook registered first can see.
 * With `exporter: none` nothing of the SDK is even loaded.
 */
export async function startTracing(cfg: TelemetryConfig['tracing'], info: { version: string; commit: string }, logger: Logger): Promise<Tracing | undefined> {
  if (cfg.exporter === 'none') return undefined;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['ioredis'] } });
  const [sdk, { OTLPTraceExporter }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { resourceFromAttributes }, { registerInstrumentations }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
  ]);
  const [{ PgInstrumentation }, { IORedisInstrumentation }, { UndiciInstrumentation }, { default: BetterSqlite3 }] = await Promise.all([
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-undici'),
    import('better-sqlite3'),
  ]);

  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ 'service.name': cfg.service_name, 'service.version': info.version, 'causeway.commit': info.commit }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(cfg.sample_ratio) }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: cfg.endpoint }), scheduledDelayMillis: 1000 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Statements of a traced operation only; background polling would start a trace per statement.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
      new UndiciInstrumentation({ requireParentforSpans: true, requestHook: withoutQuery }),
    ],
  });
  traceSqliteStatements(BetterSqlite3);
  markTracingEnabled();
  logger.info({ endpoint: cfg.endpoint, sample_ratio: cfg.sample_ratio }, 'tracing: exporting spans over OTLP/HTTP');
  return { shutdown: () => provider.shutdown() };
}

/**
 * A Redis command as traced: the command and the key's prefix only. Keys can end in single-use
 * secrets (the upstream `state`) and values are login state; neither belongs in a trace.
 */
export function redisStatement(command: string, args: unknown[]): string {
  const key = typeof args[0] === 'string' ? args[0] : typeof args[0] === 'number' ? String(args[0]) : '';
  const i = key.lastIndexOf(':');
  return key ? `${command} ${i >= 0 ? `${key.slice(0, i + 1)}…` : '…'}` : command;
}

/** IdP URLs without their query (a CAS validation carries the service ticket there). */
function withoutQuery(span: Span, request: { origin: string; path: string }): void {
  span.setAttribute('url.full', `${request.origin}${request.path.split('?')[0]}`);
  span.setAttribute('url.query', '');
}
