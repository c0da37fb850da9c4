import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { hash, timingSafeEqual } from 'node:crypto';
import { LOGGER } from '../../http/logger.module.js';
import { requestIdFrom } from '../../http/http.setup.js';
import { MetricsService } from '../../health/metrics.service.js';
import { InvalidClientError, InvalidRequestError, OAuthError } from '../errors.js';
import { ClientAuthenticator, readClientCredentials } from '../token/client-authentication.js';
import { formParams, required } from '../token/form-params.js';
import { IntrospectionService } from './introspection.service.js';
import { FailedAuthenticationLimiter } from './failed-authentication-limiter.js';
import { RATE_LIMITS } from '../../http/rate-limits.js';
import { clientAddress, trustFunction, type TrustFunction } from '../../http/trust-proxy.js';
import { closeAfterAnswerLingering } from '../../http/lingering-close.js';
import { tracingEnabled } from '../../telemetry/tracer.js';
import { inServerSpan } from '../../telemetry/http-spans.js';

export const INTROSPECTION_PATH = '/oauth2/introspect';

/** A wrong shared secret: 401 access_denied, as MAS answers. */
class BadSharedSecretError extends OAuthError {
  override readonly status = 401;
  override readonly code = 'access_denied';
}
class PayloadTooLargeError extends OAuthError {
  override readonly status = 413;
}
/** An address over its failed-authentication budget (failed-authentication-limiter.ts). */
class TooManyFailuresError extends OAuthError {
  override readonly status = 429;
  override readonly code = 'temporarily_unavailable';
}
/** The client went away before its body was complete: nobody to answer, and not our fault. */
class ClientAbortedError extends Error {}

/**
 * POST /oauth2/introspect, the path Synapse hard-codes and calls for every client request.
 * Callers: Synapse with `Authorization: Bearer <matrix.secret>` (matrix_authentication_service), or
 * a static client with `introspection: true` using client_secret_basic/post (legacy msc3861).
 *
 * It is the hot path, so it is answered by a plain Node request handler placed in front of
 * Fastify: bench/introspection measured Fastify + Nest (hooks, per-request child logger, router,
 * execution context) at several times the CPU of the lookup itself. This handler does what the
 * framework would have done for it: body limit and form parsing, request id, the duration metric,
 * the debug access line, and errors in the OAuth shape. Other methods on the path (CORS preflight)
 * and every other path go to Fastify as before.
 */
@Injectable()
export class IntrospectionEndpoint {
  private readonly bodyLimit: number;
  /** SHA-256 of `Bearer <matrix.secret>`'s secret, so each call hashes only what it received. */
  private readonly secretDigest: Buffer;
  private readonly durations: Record<'2xx' | '4xx' | '5xx', { observe(v: number): void }>;
  private readonly trust: TrustFunction | undefined;
  private readonly failures = new FailedAuthenticationLimiter(RATE_LIMITS.introspectionFailures.max, RATE_LIMITS.introspectionFailures.timeWindow);

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly clients: ClientAuthenticator,
    private readonly introspection: IntrospectionService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.bodyLimit = config.http.body_limit;
    this.trust = trustFunction(config.http.trust_proxy);
    this.secretDigest = hash('sha256', config.matrix.secret, 'buffer');
    const h = metrics.httpDuration;
    this.durations = { '2xx': h.labels(INTROSPECTION_PATH, 'POST', '2xx'), '4xx': h.labels(INTROSPECTION_PATH, 'POST', '4xx'), '5xx': h.labels(INTROSPECTION_PATH, 'POST', '5xx') };
  }

  /** Puts the handler in front of Fastify (src/raw-routes.ts calls it before the server listens). */
  install() {
    const server = this.adapterHost.httpAdapter.getInstance<FastifyInstance>().server as Server;
    const fastifyListeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'POST' && (req.url === INTROSPECTION_PATH || req.url?.startsWith(`${INTROSPECTION_PATH}?`))) {
        const handled = tracingEnabled() ? inServerSpan(req, INTROSPECTION_PATH, () => this.handle(req, res)) : this.handle(req, res);
        handled.catch((err: unknown) => {
          this.logger.error({ err }, 'introspection handler failed');
          if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"server_error"}');
          else res.destroy();
        });
        return;
      }
      for (const l of fastifyListeners) l.call(server, req, res);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<{ status: number }> {
    const started = process.hrtime.bigint();
    const headers = readHeaders(req.rawHeaders);
    const reqId = requestIdFrom(headers.requestId);
    let status = 200;
    let body: string;
    let address: string | undefined;
    try {
      const raw = await this.readBody(req);
      if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(headers.contentType ?? '')) {
        throw new InvalidRequestError('expected an application/x-www-form-urlencoded body');
      }
      const form = parseForm(raw);
      const params = formParams(form);
      address = clientAddress(req, this.trust);
      if (this.failures.blocked(address)) throw new TooManyFailuresError('too many failed authentications from this address; retry in a minute');
      try {
        const authenticating = this.authenticate(headers.authorization, params);
        if (authenticating) await authenticating;
      } catch (e) {
        if (e instanceof BadSharedSecretError || e instanceof InvalidClientError) this.failures.failed(address);
        throw e;
      }
      // An empty token is a malformed one (inactive); an absent one is a malformed request.
      const token = form.token === '' ? '' : required(params, 'token');
      const answer = this.introspection.introspectJson(token, params.token_type_hint, headers.supportsDeviceId === '1');
      body = typeof answer === 'string' ? answer : await answer;
    } catch (e) {
      if (e instanceof ClientAbortedError) {
        // A client abort is the client's doing: counted as 4xx, logged at debug, nothing written.
        this.durations['4xx'].observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.logger.debug({ reqId, route: INTROSPECTION_PATH }, 'introspection request aborted by the client');
        res.destroy();
        // 499, "client closed request" (nginx's code): for the trace span only, nothing is sent.
        return { status: 499 };
      }
      if (e instanceof OAuthError) {
        status = e.status;
        body = JSON.stringify(e.toJSON());
        if (e.status === 401 && e.code === 'invalid_client') res.setHeader('WWW-Authenticate', 'Basic realm="causeway"');
        // The rest of an oversized body is not kept: the connection closes after the answer, in
        // stages so that a client still uploading reads the 413 before the socket goes.
        if (e instanceof PayloadTooLargeError) {
          res.setHeader('Connection', 'close');
          closeAfterAnswerLingering(req.socket);
        }
      } else {
        // Synapse turns anything but a 200 into a 503 for its client: a fault is a 5xx, never a false "inactive".
        this.logger.error({ err: e, reqId }, 'introspection failed');
        status = 500;
        body = '{"error":"server_error"}';
      }
    }
    // A flat header list: Node copies it as is (no per-request header object to walk).
    res.writeHead(status, ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), 'Cache-Control', 'no-store', 'X-Request-Id', reqId, 'Access-Control-Allow-Origin', '*']);
    res.end(body);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.durations[status >= 500 ? '5xx' : status >= 400 ? '4xx' : '2xx'].observe(seconds);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug({ reqId, method: 'POST', route: INTROSPECTION_PATH, path: INTROSPECTION_PATH, status, ms: Math.round(seconds * 1000), ip: req.socket.remoteAddress }, 'request');
    }
    return { status };
  }

  private readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > this.bodyLimit) {
          failed = true;
          // From here on chunks are dropped, not kept; the 413 goes out with Connection: close and
          // the socket closes after a bounded linger (closeAfterAnswerLingering).
          reject(new PayloadTooLargeError('request body too large'));
          return;
        }
        chunks.push(c);
      });
      let ended = false;
      req.on('end', () => {
        ended = true;
        if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
      });
      // A client that goes away mid-body (reset, abort): settle instead of waiting forever.
      req.on('error', () => !failed && reject(new ClientAbortedError()));
      req.on('close', () => !ended && !failed && reject(new ClientAbortedError()));
    });
  }

  /** Synapse's shared secret is checked synchronously; client credentials need a lookup (a promise). */
  private authenticate(authorization: string | undefined, params: Record<string, string>): Promise<void> | undefined {
    if (authorization !== undefined && /^bearer /i.test(authorization)) {
      const digest = hash('sha256', authorization.slice(7).trim(), 'buffer');
      if (!timingSafeEqual(digest, this.secretDigest)) throw new BadSharedSecretError('invalid shared secret');
      return undefined;
    }
    return this.authenticateClient(authorization, params);
  }

  private async authenticateClient(authorization: string | undefined, params: Record<string, string>): Promise<void> {
    const creds = readClientCredentials(authorization, params);
    if (creds.method === 'none') throw new InvalidClientError('client authentication is required');
    const client = await this.clients.authenticate(creds);
    if (!client.introspection) throw new InvalidClientError('this client may not introspect tokens');
  }
}

interface IntrospectionHeaders {
  authorization?: string;
  contentType?: string;
  requestId?: string;
  supportsDeviceId?: string;
}

/**
 * The four headers this endpoint reads, from the raw list: reading `req.headers` would build an
 * object of every header on each call. A repeated header keeps its first value, as Node does for
 * these names.
 */
export function readHeaders(raw: string[]): IntrospectionHeaders {
  const out: IntrospectionHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 12:
        if (out.contentType === undefined && name.toLowerCase() === 'content-type') out.contentType = raw[i + 1];
        else if (out.requestId === undefined && name.toLowerCase() === 'x-request-id') out.requestId = raw[i + 1];
        break;
      case 13:
        if (out.authorization === undefined && name.toLowerCase() === 'authorization') out.authorization = raw[i + 1];
        break;
      case 24:
        if (out.supportsDeviceId === undefined && name.toLowerCase() === 'x-mas-supports-device-id') out.supportsDeviceId = raw[i + 1];
        break;
    }
  }
  return out;
}

/**
 * application/x-www-form-urlencoded in one pass (`+` is a space); a repeated field becomes an array
 * (refused by formParams, as on every OAuth endpoint). Undecodable input is invalid_request.
 */
export function parseForm(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let k: string;
    let v: string;
    try {
      k = decode(eq < 0 ? pair : pair.slice(0, eq));
      v = eq < 0 ? '' : decode(pair.slice(eq + 1));
    } catch {
      throw new InvalidRequestError('malformed form body');
    }
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const decode = (s: string) => (/[%+]/.test(s) ? decodeURIComponent(s.replace(/\+/g, ' ')) : s);
