import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is calling, for the audit trail: set for each HTTP request, read wherever an event is recorded. */
export interface RequestContext {
  requestId: string;
  /** The client address (X-Forwarded-For honoured only with `http.trust_proxy`). */
  ip: string;
  userAgent?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the HTTP request being handled, if any (undefined in background work). */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it starts) inside `ctx`. */
export function runInRequest<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** A user agent as recorded: at most 512 characters. */
export function userAgentOf(header: unknown): string | undefined {
  return typeof header === 'string' && header ? header.slice(0, 512) : undefined;
}
