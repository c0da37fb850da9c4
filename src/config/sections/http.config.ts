import { z } from 'zod';
import { isCidr } from '../cidr.js';
import { parseOptions } from '../secret-ref.js';

const hostPort = (example: string) => z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, `expected host:port, e.g. ${example}`);

/** Where /metrics goes outside dev_mode when `metrics_listen` is not set: off the public port. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9090';
/** The address ranges proxy-addr knows by name. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
const proxyAddress = z.string().refine((s) => NAMED_RANGES.includes(s) || isCidr(s) || isCidr(`${s}/${s.includes(':') ? 128 : 32}`), 'expected an address, a CIDR range, or loopback | linklocal | uniquelocal');

/** Where Causeway listens and the public URL everything is derived from (the issuer). */
export const httpSection = z
  .object({
    public_base: z
      .url()
      .refine((u) => u.endsWith('/'), 'must end with "/"')
      .describe('Public base URL, also the OAuth/OIDC issuer; every URL Causeway publishes derives from it. Must end with `/`.'),
    listen: hostPort('0.0.0.0:8080')
      .default('127.0.0.1:8080')
      .describe('`host:port` the HTTP server listens on (`[::]:8080` for IPv6). When left out: the environment variable `CAUSEWAY_HTTP_LISTEN` if set (the container image sets `0.0.0.0:8080`), else `127.0.0.1:8080`.'),
    metrics_listen: z
      .union([z.literal('public'), hostPort('0.0.0.0:9090')])
      .optional()
      .describe(
        'Serve `/metrics` on this separate `host:port` only, so an ingress that forwards everything cannot expose it. Unset: `127.0.0.1:9090` (loopback) outside dev_mode, `listen` with dev_mode. `public`: on `listen`.',
      ),
    // F3 (issue 13): `true` is one hop, never "every hop", which let anyone choose their address.
    trust_proxy: z
      .union([z.boolean(), z.number().int().min(1).max(16), z.array(proxyAddress).min(1)])
      .default(false)
      .describe(
        "Which reverse proxies to believe for the client address (`X-Forwarded-For`: rate limits, CAS `slo_allowed_from`, logs, audit trail) and https detection: `false` (the socket address), `true` or a number of hops (1: the immediate peer is the proxy, the last entry is the client), or the proxies' addresses/CIDR ranges (`loopback`, `linklocal`, `uniquelocal` name the usual ones).",
      ),
    body_limit: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(256 * 1024)
      .describe('Largest request body accepted, in bytes; a bigger one gets 413.'),
  })
  .strict()
  .transform((o) => ({
    ...o,
    // undefined: /metrics is served on `listen`.
    metrics_listen: o.metrics_listen === 'public' ? undefined : (o.metrics_listen ?? (parseOptions.devMode ? undefined : DEFAULT_METRICS_LISTEN)),
  }))
  .describe('Where Causeway listens and the public URL it is reached at.');
export type HttpConfig = z.infer<typeof httpSection>;
export type TrustProxySetting = HttpConfig['trust_proxy'];
