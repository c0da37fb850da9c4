import { randomUUID } from 'node:crypto';
import { LogController, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import { rateLimitForPath } from './rate-limits.js';
import { refuseControlCharacters } from './control-characters.js';
import { trustFunction } from './trust-proxy.js';
import type { TrustProxySetting } from '../config/sections/http.config.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { MetricsService } from '../health/metrics.service.js';
import { runInRequest, userAgentOf, type RequestContext } from './request-context.js';
import { tracingEnabled } from '../telemetry/tracer.js';
import { requestTraceIds, traceHttpRequests } from '../telemetry/http-spans.js';

/**
 * Endpoints browsers call cross-origin (Element Web talks to the OP from its own origin): permissive
 * CORS, preflights answered here (docs/contracts/matrix-clients.md §13). The compatibility
 * layer's JSON routes too (legacy web clients call /login, /logout, /refresh from their origin).
 */
const CORS_PATH = /^\/(\.well-known\/|oauth2\/|_matrix\/client\/[^/]+\/(auth_metadata|org\.matrix\.msc2965\/auth_(metadata|issuer)|login|logout|logout\/all|refresh)$)/;
const QUIET_PATHS = new Set(['/oauth2/introspect', '/health/live', '/health/ready', '/metrics']);

/** Request ids we mint: a per-process random prefix and a counter (unique, and cheaper than a UUID per request). */
const REQUEST_ID_PREFIX = randomUUID().slice(0, 8);
let requestCounter = 0;

/** The caller's X-Request-Id when it is sane, else a new one. */
export function requestIdFrom(header: unknown): string {
  if (typeof header === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(header)) return header;
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${REQUEST_ID_PREFIX}-${requestCounter.toString(36)}`;
}

export async function setupHttp(fastify: FastifyInstance, deps: { cookieSecret: string; logger: Logger; metrics: MetricsService; redis?: Redis | null; redisPrefix?: string }): Promise<void> {
  if (tracingEnabled()) traceHttpRequests(fastify);
  // Before any other hook: the rest of the request runs inside its context (who is calling, for the
  // audit trail). Entered again before the handler: the body is parsed in the socket's own async
  // context, which is not the request's.
  const contexts = new WeakMap<object, RequestContext>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    const ctx: RequestContext = { requestId: request.id, ip: request.ip, userAgent: userAgentOf(request.headers['user-agent']) };
    contexts.set(request, ctx);
    runInRequest(ctx, done);
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const ctx = contexts.get(request);
    if (ctx) runInRequest(ctx, done);
    else done();
  });
  await fastify.register(fastifyCookie, { secret: deps.cookieSecret, hook: 'onRequest' });
  // Browser-facing and admin routes get their limit by path (before the plugin reads route configs).
  fastify.addHook('onRoute', (route) => {
    const limit = rateLimitForPath(route.url);
    if (limit && !(route.config as { rateLimit?: unknown } | undefined)?.rateLimit) route.config = { ...(route.config ?? {}), rateLimit: limit } as typeof route.config;
  });
  // Only routes that declare `config.rateLimit` (Nest: @RouteConfig({ rateLimit })) are limited.
  // Counters live in Redis when configured, so the limit holds across replicas.
  await fastify.register(fastifyRateLimit, {
    global: false,
    ...(deps.redis ? { redis: deps.redis, nameSpace: `${deps.redisPrefix ?? 'causeway:'}ratelimit:`, skipOnError: true } : {}),
    errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`rate limit exceeded, retry in ${ctx.after}`), { statusCode: 429, code: 'FST_ERR_RATE_LIMITED' }),
  });

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    const path = request.url.split('?')[0]!;
    if (CORS_PATH.test(path)) {
      reply.header('Access-Control-Allow-Origin', '*');
      if (request.method === 'OPTIONS') {
        await reply
          .status(204)
          .header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
          .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, Accept-Language, X-Requested-With')
          .header('Access-Control-Max-Age', '86400')
          .send();
      }
    }
  });

  // Control characters in a query, a path or a body: refused before any handler reads them (F5).
  fastify.addHook('preValidation', async (request) => refuseControlCharacters(request));

  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    deps.metrics.httpDuration.observe({ route, method: request.method, status: `${Math.floor(reply.statusCode / 100)}xx` }, seconds);
    const path = request.url.split('?')[0]!;
    const level = QUIET_PATHS.has(path) ? 'debug' : 'info';
    deps.logger[level]({ reqId: request.id, method: request.method, route, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime), ip: request.ip, ...requestTraceIds(request) }, 'request');
  });
}

export const fastifyOptions = (o: { bodyLimit: number; trustProxy: TrustProxySetting; logger: Logger }) => ({
  bodyLimit: o.bodyLimit,
  trustProxy: trustFunction(o.trustProxy) ?? false,
  genReqId: (req: { headers: Record<string, unknown> }) => requestIdFrom(req.headers['x-request-id']),
  // Our own one-line access log (onResponse hook above) replaces Fastify's two lines per request.
  logController: new LogController({ disableRequestLogging: true }),
  loggerInstance: o.logger,
  // On close: stop accepting, let in-flight requests finish, drop idle keep-alive sockets.
  forceCloseConnections: 'idle' as const,
  return503OnClosing: true,
  routerOptions: { ignoreTrailingSlash: false, maxParamLength: 500 },
});
