import type { IncomingMessage } from 'node:http';

/** One request as the stand-in's handlers see it. */
export interface RequestContext {
  method: string;
  url: URL;
  req: IncomingMessage;
  body: Buffer;
  /** Path parameters from the route pattern. */
  params: Record<string, string>;
}

export interface HandlerResult {
  status: number;
  /** JSON body; `undefined` sends an empty body (e.g. 204). */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<HandlerResult>;

/** A route: a path pattern and a handler per method (HEAD is served by GET, as Twisted does). */
export interface Route {
  pattern: RegExp;
  methods: Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>;
  /** How an unsupported method is answered (Synapse: 405 M_UNRECOGNIZED for JSON resources). */
  wrongMethodStatus?: number;
}

/** First value of a query parameter, decoded as Synapse's `parse_string` (ASCII only). */
export function queryString(url: URL, name: string): string | undefined {
  if (!url.searchParams.has(name)) return undefined;
  return url.searchParams.get(name)!;
}
