#!/usr/bin/env node
// The container image's HEALTHCHECK: exit 0 when GET /health/live answers 2xx within 4 s, else 1.
// The port is the one the image listens on (CAUSEWAY_HTTP_LISTEN, 0.0.0.0:8080); a config whose
// http.listen moves it sets CAUSEWAY_HEALTHCHECK_URL to match.
const listen = process.env.CAUSEWAY_HTTP_LISTEN ?? '127.0.0.1:8080';
const port = listen.slice(listen.lastIndexOf(':') + 1);
const url = process.env.CAUSEWAY_HEALTHCHECK_URL ?? `http://127.0.0.1:${port}/health/live`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
