import { z } from 'zod';

/** Where Causeway listens and the public URL everything is derived from (the issuer). */
export const httpSection = z
  .object({
    /** Public base URL, also the OAuth issuer. Must end with `/` (clients build URLs relative to it). */
    public_base: z.url().refine((u) => u.endsWith('/'), 'must end with "/"'),
    /** `host:port` to listen on. */
    listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8080').default('127.0.0.1:8080'),
    /**
     * Serve /metrics on this separate `host:port` only (not on `listen`), so Prometheus figures are
     * not public behind an ingress that forwards everything. Unset: /metrics is on `listen`.
     */
    metrics_listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:9090').optional(),
    /** Trust X-Forwarded-* headers from a reverse proxy (needed behind an ingress for client IPs). */
    trust_proxy: z.boolean().default(false),
    /** Largest request body accepted, in bytes (bigger ones get 413). */
    body_limit: z.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  })
  .strict();
export type HttpConfig = z.infer<typeof httpSection>;
