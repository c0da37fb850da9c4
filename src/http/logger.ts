import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { activeTraceIds } from '../telemetry/tracer.js';
import { currentRequest } from './request-context.js';

const requestFields = (): { reqId?: string } => {
  const req = currentRequest();
  return req ? { reqId: req.requestId } : {};
};

/**
 * JSON logs. Tokens, secrets, cookies and query strings never reach them: request URLs are logged
 * without their query, these headers and fields are redacted, and anything shaped like a
 * Causeway token is masked wherever it appears in a message.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.code',
  '*.code_verifier',
  '*.device_code',
  '*.secret',
];
/**
 * `code` is both a secret (an OAuth authorization code in a query or form) and what an error says
 * went wrong (`ECONNREFUSED`, `SQLITE_CONSTRAINT_UNIQUE`, PostgreSQL's `23505`): the error codes
 * stay readable, anything else named `code` is redacted.
 */
const ERROR_CODE = /^(?:[A-Z][A-Z0-9_]{1,63}|[0-9A-Z]{5})$/;
function censorField(value: unknown, path: string[]): unknown {
  return path[path.length - 1] === 'code' && typeof value === 'string' && ERROR_CODE.test(value) ? value : '[redacted]';
}

const TOKEN_SHAPE = /\b(mat|mar|mct|mcr|mpt|syt|syr)_[A-Za-z0-9]{10,}_[A-Za-z0-9]{6}\b/g;

export function maskTokens(s: string): string {
  return s.replace(TOKEN_SHAPE, '$1_[redacted]');
}

/**
 * Fields of database errors that carry the values of a query: TypeORM's QueryFailedError keeps the
 * bound `parameters` and the `driverError`, and copies the driver's fields onto itself (PostgreSQL's
 * `detail` quotes the offending row: "Key (localpart)=(alice) already exists"). Login snapshots
 * hold PKCE verifiers, nonces and IdP attributes: none of it may reach a log line (issue 13, F6).
 * The SQL text, the error code, table and constraint stay: they say what failed.
 */
const ERROR_FIELDS_NEVER_LOGGED = new Set(['parameters', 'driverError', 'detail', 'where', 'internalQuery', 'raw']);

/** pino's error serializer, minus the fields above, at any depth (wrapped and aggregated errors too). */
export function serializeError(err: unknown): unknown {
  return scrub(pino.stdSerializers.err(err as Error), 0);
}

function scrub(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (ERROR_FIELDS_NEVER_LOGGED.has(k)) continue;
    out[k] = scrub(v, depth + 1);
  }
  return out;
}

/**
 * The root logger. Every line written while an HTTP request is handled carries its `reqId`; with
 * `traced`, every line written inside a traced operation also carries its `trace_id` and `span_id`.
 */
export function createLogger(level: string, traced = false, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    mixin: traced ? () => ({ ...requestFields(), ...activeTraceIds() }) : requestFields,
    base: { service: 'causeway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: censorField },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? maskTokens(a) : a)) as Parameters<typeof method>;
        method.apply(this, masked);
      },
    },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url?.split('?')[0],
        ip: req.ip,
      }),
      res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
      err: serializeError,
    },
  };
  // `destination`: stdout unless given (tests pass a stream to read what would be logged).
  return destination ? pino(options, destination) : pino(options);
}

/** Nest's logger interface over pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
