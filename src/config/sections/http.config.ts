import { z } from 'zod';
import { isCidr } from '../cidr.js';
import { parseOptions } from '../secret-ref.js';

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/;
/** Where /metrics goes outside dev_mode when `metrics_listen` is not set: off the public port. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9090';
/** The address ranges proxy-addr knows by name. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `http.trust_proxy`: which X-Forwarded-For hops to believe (http/trust-proxy.ts turns it into
 * Fastify's trust function). `true` is one hop (the immediate peer is the proxy): trusting every hop
 * would let anyone pick their address by prepending to the header (issue 13, F3).
 */
const trustProxy = z.union([
  z.boolean(),
  z.number().int().min(1).max(16),
  z
    .array(z.string().refine((s) => NAMED_RANGES.includes(s) || isCidr(s) || isCidr(`${s}/${s.includes(':') ? 128 : 32}`), 'expected an address, a CIDR range, or loopback | linklocal | uniquelocal'))
    .min(1),
]);

/** Where Causeway listens and the public URL everything is derived from (the issuer). */
export const httpSection = z
  .object({
    /** Public base URL, also the OAuth issuer. Must end with `/` (clients build URLs relative to it). */
    public_base: z.url().refine((u) => u.endsWith('/'), 'must end with "/"'),
    /** `host:port` to listen on. */
    listen: z.string().regex(HOST_PORT, 'expected host:port, e.g. 0.0.0.0:8080').default('127.0.0.1:8080'),
    /**
     * `host:port` of a listener that serves /metrics and nothing else, so Prometheus figures are not
     * public behind an ingress that forwards everything. Default: 127.0.0.1:9090 (loopback only)
     * outside dev_mode; with dev_mode, /metrics on `listen`. `public` keeps /metrics on `listen`.
     */
    metrics_listen: z.union([z.literal('public'), z.string().regex(HOST_PORT, 'expected host:port (e.g. 0.0.0.0:9090) or public')]).optional(),
    /**
     * Which reverse proxies to believe for the client address (X-Forwarded-For), used by rate limits
     * and CAS `slo_allowed_from`: `false` (default: the socket address), `true` or a number of hops
     * (1 = the immediate peer is the proxy and its last X-Forwarded-For entry is the client), or a list
     * of the proxies' addresses / CIDR ranges (`loopback`, `linklocal`, `uniquelocal` name the usual ones).
     */
    trust_proxy: trustProxy.default(false),
    /** Largest request body accepted, in bytes (bigger ones get 413). */
    body_limit: z.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  })
  .strict()
  .transform((o) => ({
    ...o,
    // undefined: /metrics is served on `listen`.
    metrics_listen: o.metrics_listen === 'public' ? undefined : (o.metrics_listen ?? (parseOptions.devMode ? undefined : DEFAULT_METRICS_LISTEN)),
  }));
export type HttpConfig = z.infer<typeof httpSection>;
export type TrustProxySetting = HttpConfig['trust_proxy'];
