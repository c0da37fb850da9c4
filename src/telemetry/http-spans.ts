import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from './tracer.js';

const spans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();

/**
 * A server span per HTTP request, child of the caller's W3C `traceparent` (the reverse proxy's or
 * the client's) when it sends one. The request runs inside the span's context: entered in onRequest
 * and again before the handler (the body is parsed in the socket's own async context). The URL is
 * recorded without its query (authorization requests and callbacks carry codes and state there).
 * Installed only while tracing is on.
 */
export function traceHttpRequests(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions?.url;
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0],
          ...(route ? { 'http.route': route } : {}),
          'client.address': request.ip,
          'causeway.request_id': request.id,
          ...(typeof request.headers['user-agent'] === 'string' ? { 'user_agent.original': request.headers['user-agent'].slice(0, 512) } : {}),
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    spans.set(request, { span, ctx });
    context.with(ctx, done);
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const s = spans.get(request);
    if (s) context.with(s.ctx, done);
    else done();
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const s = spans.get(request);
    if (!s) return;
    s.span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) s.span.setStatus({ code: SpanStatusCode.ERROR });
    s.span.end();
  });
  fastify.addHook('onRequestAbort', async (request) => {
    const s = spans.get(request);
    if (!s) return;
    s.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
    s.span.end();
  });
}

/** The trace and span id of a request's server span (for its access-log line), if traced. */
export function requestTraceIds(request: FastifyRequest): { trace_id: string; span_id: string } | undefined {
  const ctx = spans.get(request)?.span.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : undefined;
}

/**
 * A server span around a request handled outside Fastify (the introspection fast path), the same
 * way as traceHttpRequests does it for the others. Call only while tracing is on.
 */
export async function inServerSpan<T extends { status: number }>(req: IncomingMessage, route: string, handle: () => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer().startSpan(
    `${req.method} ${route}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': route, 'http.route': route, 'client.address': req.socket.remoteAddress ?? '' } },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), handle);
    span.setAttribute('http.response.status_code', result.status);
    if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  } finally {
    span.end();
  }
}
