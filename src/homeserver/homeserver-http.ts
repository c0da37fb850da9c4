import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { HomeserverError } from './homeserver.adapter.js';
import { homeserverCall } from '../telemetry/outbound-calls.js';

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

class StaleSocketError extends Error {}

interface Payload {
  bytes: Buffer;
  contentType: string;
}

/** Sockets kept open to the homeserver (deliveries run many calls in parallel). */
const MAX_SOCKETS = 128;

export class HomeserverHttp {
  private readonly base: URL;
  // node:http with a keep-alive agent: much cheaper per call than fetch, which matters when a
  // backlog of sign-outs drains at thousands of calls per second.
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;

  constructor(private readonly opts: HomeserverHttpOptions) {
    this.base = new URL(opts.endpoint);
    const https = this.base.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }) : new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
    this.request = https ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
  }

  /** Sends one request; resolves with any HTTP answer, rejects with a transient HomeserverError on network failure or timeout. */
  async send(method: string, path: string, body?: unknown, timeoutMs = this.opts.timeoutMs): Promise<HomeserverResponse> {
    return this.sendWith(method, path, body === undefined ? undefined : { bytes: Buffer.from(JSON.stringify(body)), contentType: 'application/json' }, timeoutMs);
  }

  /** Sends bytes of a given type as someone else (a user's access token: a media upload as the user). */
  async sendBytes(method: string, path: string, bytes: Buffer, contentType: string, bearer: string, timeoutMs = this.opts.timeoutMs): Promise<HomeserverResponse> {
    return this.sendWith(method, path, { bytes, contentType }, timeoutMs, bearer);
  }

  private async sendWith(method: string, path: string, payload: Payload | undefined, timeoutMs: number, bearer = this.opts.token): Promise<HomeserverResponse> {
    return homeserverCall(method, path, async (headers) => {
      try {
        return await this.sendOnce(method, path, payload, timeoutMs, headers, bearer);
      } catch (e) {
        // A kept-alive socket the server closed just as we reused it: every call here is idempotent,
        // so one immediate retry on a fresh socket is safe (the pattern Node's docs give for reusedSocket).
        if (e instanceof StaleSocketError) return this.sendOnce(method, path, payload, timeoutMs, headers, bearer);
        throw e;
      }
    });
  }

  private sendOnce(method: string, path: string, body: Payload | undefined, timeoutMs: number, traceHeaders: Record<string, string>, bearer: string): Promise<HomeserverResponse> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const payload = body?.bytes;
    const where = `${method} ${pathOnly(path)}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (reason: string, errcode: 'TIMEOUT' | 'NETWORK', status?: number) => {
        if (settled) return;
        settled = true;
        reject(new HomeserverError(`${where}: ${reason}`, true, status, errcode));
      };
      const req = this.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${bearer}`,
            Accept: 'application/json',
            'User-Agent': this.opts.userAgent ?? 'Causeway',
            ...traceHeaders,
            ...(body ? { 'Content-Type': body.contentType, 'Content-Length': String(body.bytes.length) } : {}),
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(`reading the answer failed (${e.message})`, 'NETWORK', res.statusCode));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            if (text) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = undefined;
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      const timer = setTimeout(() => {
        fail(`timed out after ${timeoutMs} ms`, 'TIMEOUT');
        req.destroy();
      }, timeoutMs);
      req.on('error', (e: Error & { code?: string }) => {
        clearTimeout(timer);
        if (!settled && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          settled = true;
          reject(new StaleSocketError());
          return;
        }
        fail(e.code ?? e.message, 'NETWORK');
      });
      req.end(payload);
    });
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

/** `POST /_matrix/media/v3/upload` as the user; Synapse answers `{"content_uri": "mxc://…"}` (docs/contracts/synapse.md §3.4). */
export async function uploadAsUser(http: HomeserverHttp, accessToken: string, image: { bytes: Buffer; contentType: string; filename: string }): Promise<string> {
  const path = `_matrix/media/v3/upload?filename=${encodeURIComponent(image.filename)}`;
  const r = await http.sendBytes('POST', path, image.bytes, image.contentType, accessToken);
  const uri = (r.body as { content_uri?: unknown } | undefined)?.content_uri;
  if (isSuccess(r.status) && typeof uri === 'string' && uri.startsWith('mxc://')) return uri;
  if (isSuccess(r.status)) throw new HomeserverError(`POST ${path.split('?')[0]} answered ${r.status} without a content_uri`, false, r.status);
  throw HomeserverHttp.errorFor('POST', path, r);
}
