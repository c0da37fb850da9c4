// A tiny HTTP load balancer for multi-replica tests: each request goes to the next replica in rotation
// (a fresh upstream connection per request), and a replica can be taken out of rotation and put back,
// as Kubernetes does with the endpoints of a terminating or restarted pod. It logs which replica
// served what.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Name of the replica that served it. */
  replica: string;
  status: number;
  /** The request's `x-test-flow` header: lets a test tell which of its clients sent what. */
  flow?: string;
}

export interface RoundRobinProxy {
  url: string;
  log: ProxiedRequest[];
  /** Takes a replica out of rotation (requests already sent to it go on). */
  drain(name: string): void;
  /** Puts a replica (back) into rotation, at `url`. */
  add(name: string, url: string): void;
  /** Overrides the rotation: a function naming the replica for a request (undefined: the next in turn). */
  route?: (method: string, path: string) => string | undefined;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(port: number, replicas: Record<string, string>): Promise<RoundRobinProxy> {
  const rotation = new Map(Object.entries(replicas).map(([name, url]) => [name, new URL(url)]));
  const log: ProxiedRequest[] = [];
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const names = [...rotation.keys()];
    if (names.length === 0) {
      res.writeHead(503).end('no replica in rotation');
      return;
    }
    const chosen = proxy.route?.(req.method ?? 'GET', req.url ?? '/');
    const name = chosen !== undefined && rotation.has(chosen) ? chosen : names[next++ % names.length]!;
    const target = rotation.get(name)!;
    const flow = req.headers['x-test-flow'];
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', replica: name, status: 0, ...(typeof flow === 'string' ? { flow } : {}) };
    log.push(entry);
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (up) => {
      entry.status = up.statusCode ?? 0;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${name}: ${e.message}`);
    });
    req.pipe(upstream);
  };

  const server = createServer(forward);
  // Long, as load balancers keep client connections: a short idle timeout races with the client's
  // reuse of a pooled connection (ECONNRESET) when the machine is busy.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const proxy: RoundRobinProxy = {
    url: `http://127.0.0.1:${port}`,
    log,
    drain: (name) => void rotation.delete(name),
    add: (name, url) => void rotation.set(name, new URL(url)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
