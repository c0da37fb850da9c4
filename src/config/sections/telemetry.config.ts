import { z } from 'zod';

const tracingSection = z
  .object({
    exporter: z.enum(['none', 'otlp']).default('none').describe('`otlp` exports spans over OTLP/HTTP (protobuf) to `endpoint`; `none` (the default) turns tracing off entirely, at no cost.'),
    endpoint: z.url().default('http://127.0.0.1:4318/v1/traces').describe('The OTLP/HTTP traces endpoint of a collector (its full URL, usually ending in `/v1/traces`).'),
    sample_ratio: z.number().min(0).max(1).default(1).describe("Share of new traces recorded, 0 to 1. A request that arrives with a W3C `traceparent` follows the caller's sampling decision instead."),
    service_name: z.string().min(1).default('causeway').describe('The `service.name` resource attribute of every span.'),
  })
  .strict()
  .describe('OpenTelemetry tracing: spans for HTTP requests, login steps, database statements, Redis commands, IdP and homeserver calls.');

/** Observability beyond logs and /metrics. */
export const telemetrySection = z
  .object({ tracing: tracingSection.prefault({}) })
  .strict()
  .describe('Observability: OpenTelemetry tracing.');
export type TelemetryConfig = z.infer<typeof telemetrySection>;
