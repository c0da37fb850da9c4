import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * An OTLP/HTTP trace receiver: what an OpenTelemetry collector is to Causeway. It accepts
 * POST /v1/traces in protobuf (the exporter's encoding), decodes it with the published OTLP
 * definitions (./otlp/proto) and keeps every span.
 */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  startNs: bigint;
  endNs: bigint;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
  service: string;
}

export interface OtlpReceiver {
  /** The traces endpoint (…/v1/traces), for `telemetry.tracing.endpoint`. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Requests that were not valid OTLP protobuf (should stay 0). */
  rejected: number;
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const PROTO_DIR = fileURLToPath(new URL('./otlp/proto/', import.meta.url));

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
const valueOf = (v: AnyValue | undefined): unknown =>
  v === undefined ? undefined : (v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.arrayValue?.values?.map(valueOf));
const attributesOf = (list: { key: string; value?: AnyValue }[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '');

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  await root.load('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const Response = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

  const spans: ReceivedSpan[] = [];
  const state = { rejected: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !/^application\/x-protobuf/.test(req.headers['content-type'] ?? '')) {
        state.rejected++;
        res.writeHead(415).end();
        return;
      }
      try {
        const decoded = Request.toObject(Request.decode(Buffer.concat(chunks)), { longs: String, bytes: Buffer, defaults: true }) as {
          resourceSpans: { resource?: { attributes?: { key: string; value?: AnyValue }[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
        };
        for (const rs of decoded.resourceSpans) {
          const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans as {
              traceId: Uint8Array;
              spanId: Uint8Array;
              parentSpanId: Uint8Array;
              name: string;
              kind: number;
              attributes: { key: string; value?: AnyValue }[];
              startTimeUnixNano: string;
              endTimeUnixNano: string;
              status?: { code?: number };
            }[]) {
              spans.push({
                traceId: hex(s.traceId),
                spanId: hex(s.spanId),
                parentSpanId: hex(s.parentSpanId),
                name: s.name,
                kind: s.kind,
                attributes: attributesOf(s.attributes),
                startNs: BigInt(s.startTimeUnixNano),
                endNs: BigInt(s.endTimeUnixNano),
                status: s.status?.code ?? 0,
                service,
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(Response.encode(Response.create({})).finish()));
      } catch {
        state.rejected++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    get rejected() {
      return state.rejected;
    },
    async waitFor(pred, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(spans)) {
        if (Date.now() > deadline) throw new Error(`spans not received within ${timeoutMs} ms (have: ${spans.map((s) => s.name).join(', ')})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The spans of one trace as an indented tree (for assertions' messages and the closing note). */
export function traceTree(spans: ReceivedSpan[], traceId: string): string {
  const mine = spans.filter((s) => s.traceId === traceId).sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  const ids = new Set(mine.map((s) => s.spanId));
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const s of mine.filter((x) => (parent === '' ? !ids.has(x.parentSpanId) : x.parentSpanId === parent))) {
      const ms = Number(s.endNs - s.startNs) / 1e6;
      lines.push(`${'  '.repeat(depth)}${s.name} (${ms.toFixed(1)} ms)`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
