import { z } from 'zod';

const hostPort = (example: string) => z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, `expected host:port, e.g. ${example}`);

/** Where Causeway listens and the public URL everything is derived from (the issuer). */
export const httpSection = z
  .object({
    public_base: z
      .url()
      .refine((u) => u.endsWith('/'), 'must end with "/"')
      .describe('Public base URL, also the OAuth/OIDC issuer; every URL Causeway publishes derives from it. Must end with `/`.'),
    listen: hostPort('0.0.0.0:8080').default('127.0.0.1:8080').describe('`host:port` the HTTP server listens on (`[::]:8080` for IPv6).'),
    metrics_listen: hostPort('0.0.0.0:9090')
      .optional()
      .describe('Serve `/metrics` on this separate `host:port` only, so an ingress that forwards everything cannot expose it. Unset: `/metrics` is on `listen`.'),
    trust_proxy: z
      .boolean()
      .default(false)
      .describe('Trust `X-Forwarded-*` headers from a reverse proxy: needed behind an ingress for client addresses (rate limits, logs, audit trail) and https detection.'),
    body_limit: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(256 * 1024)
      .describe('Largest request body accepted, in bytes; a bigger one gets 413.'),
  })
  .strict()
  .describe('Where Causeway listens and the public URL it is reached at.');
export type HttpConfig = z.infer<typeof httpSection>;
