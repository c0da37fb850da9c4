import { HomeserverError } from './homeserver.adapter.js';

/**
 * The HTTP side of both adapters: one call, a per-call timeout, and failures classified the way
 * delivery needs them. 5xx, timeouts and network errors are transient (retry later); 4xx are
 * permanent unless the adapter knows the answer means "already done".
 */

export interface HomeserverResponse {
  status: number;
  /** Parsed JSON body, or undefined (empty or not JSON). */
  body: unknown;
}

export interface HomeserverHttpOptions {
  /** Base URL ending with '/'. */
  endpoint: string;
  /** Bearer credential: the shared secret (synapse-mas) or the admin token (synapse-admin). */
  token: string;
  timeoutMs: number;
  userAgent?: string;
}

export class HomeserverHttp {
  constructor(private readonly opts: HomeserverHttpOptions) {}

  /** Sends one request; resolves with any HTTP answer, rejects with a transient HomeserverError on network failure or timeout. */
  async send(method: string, path: string, body?: unknown, timeoutMs = this.opts.timeoutMs): Promise<HomeserverResponse> {
    const url = this.opts.endpoint + path.replace(/^\//, '');
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.opts.token}`,
          Accept: 'application/json',
          'User-Agent': this.opts.userAgent ?? 'Causeway',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const reason = err.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (err.cause?.code ?? err.message);
      throw new HomeserverError(`${method} ${pathOnly(path)}: ${reason}`, true, undefined, err.name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK');
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new HomeserverError(`${method} ${pathOnly(path)}: reading the answer failed (${(e as Error).message})`, true, res.status, 'NETWORK');
    }
    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: res.status, body: parsed };
  }

  /** The error for an unexpected answer: 5xx (and 429) transient, other statuses permanent. */
  static errorFor(method: string, path: string, r: HomeserverResponse): HomeserverError {
    const b = (r.body ?? {}) as { errcode?: unknown; error?: unknown };
    const errcode = typeof b.errcode === 'string' ? b.errcode : undefined;
    const detail = typeof b.error === 'string' ? `: ${b.error.slice(0, 200)}` : '';
    const transient = r.status >= 500 || r.status === 429 || r.status === 408;
    return new HomeserverError(`${method} ${pathOnly(path)} answered ${r.status}${errcode ? ` ${errcode}` : ''}${detail}`, transient, r.status, errcode);
  }
}

/** The path without its query (a localpart in a query string is fine to log, a token never appears here). */
function pathOnly(path: string): string {
  return path.split('?')[0]!;
}

export const isSuccess = (status: number) => status >= 200 && status < 300;

/** Whether a 404 says the user is unknown to the homeserver (Synapse's NotFoundError "User not found"/"Unknown user"). */
export function isUserNotFound(r: HomeserverResponse): boolean {
  const b = (r.body ?? {}) as { errcode?: unknown; error?: unknown };
  return r.status === 404 && b.errcode === 'M_NOT_FOUND' && (b.error === 'User not found' || b.error === 'Unknown user');
}

/** Synapse's `parse_string` refuses non-ASCII query values; MAS skips the call and answers "not available". */
export const isAscii = (s: string) => !/[^\x00-\x7f]/.test(s);
