import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { adminRoutes } from './homeserver/admin-api.js';
import { clientRoutes } from './homeserver/client-api.js';
import { DelegatedAuth, type Appservice, type LegacyAuthConfig, type Requester } from './homeserver/delegated-auth.js';
import type { RequestContext, Route } from './homeserver/http-types.js';
import type { IntrospectionLogEntry } from './homeserver/introspection.js';
import { masRoutes } from './homeserver/mas-api.js';
import { SynapseError, internalError, unrecognized } from './homeserver/synapse-error.js';
import { StandinState, type StandinDevice, type StandinMedia, type StandinUser } from './homeserver/standin-state.js';
import { loadSynapseDatabase, type SynapseRows } from './homeserver/synapse-database.js';
import { freePort } from './ports.js';

/**
 * A homeserver that behaves like Synapse toward Causeway (docs/contracts/synapse.md §2 and the §7
 * checklist): it introspects client tokens at the OP and derives user/device exactly as Synapse does,
 * serves every /_synapse/mas/* endpoint with Synapse's validation and status codes, the older admin
 * API subset used by the synapse-admin adapter, and the client surface Synapse keeps under delegation.
 *
 * For tests: an append-only call log, switches to be down (connection refused) / answer 500 / be slow,
 * a controllable clock (cache window, token expiry) and direct access to users and devices.
 */

export const DEFAULT_SERVER_NAME = 'example.test';

export interface HomeserverStandinOptions {
  /** Synapse's `server_name` (= Causeway's `matrix.homeserver`). */
  serverName?: string;
  /** `stable` (matrix_authentication_service, default) or `msc3861` (legacy experimental_features.msc3861). */
  mode?: 'stable' | 'msc3861';
  /** Stable: the OP base URL (`matrix_authentication_service.endpoint`); may be set later with setEndpoint. */
  endpoint?: string;
  /** Stable: the shared secret, used in both directions. */
  secret?: string;
  /** msc3861 mode settings (issuer, client credentials, admin_token). */
  legacy?: LegacyAuthConfig;
  /** The 2-minute introspection cache (default on). */
  cache?: boolean;
  appservices?: Appservice[];
  allowUnderscorePrefixedLocalpart?: boolean;
  /** Forward /_matrix/client/{v}/(login|logout|refresh) to the OP, as the production reverse proxy does. */
  routeCompatToOp?: boolean;
  /** Listen on this port (default: a free one). */
  port?: number;
}

/** One request the stand-in received, as it answered it. */
export interface CallRecord {
  seq: number;
  /** Wall-clock ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Authorization header as received (tests check which credential was used). */
  authorization?: string;
  /** Request body: parsed JSON when it parses, else the raw text ('' when empty). */
  body: unknown;
  status: number;
  response: unknown;
  /** Set when a fault switch (not the handler) produced the answer. */
  fault?: 'error' | 'slow';
  durationMs: number;
}

export type Fault =
  | { kind: 'none' }
  /** Answer every matching request with this status (default 500) and an M_UNKNOWN body. */
  | { kind: 'error'; status?: number }
  /** Delay matching requests by `delayMs`, then answer normally (or never, if the client gave up). */
  | { kind: 'slow'; delayMs: number };

export interface HomeserverStandin {
  readonly url: string;
  readonly port: number;
  readonly serverName: string;
  readonly mode: 'stable' | 'msc3861';
  /** The requests received so far, in arrival order (append-only; copy before mutating). */
  readonly calls: readonly CallRecord[];
  /** Every introspection request made to the OP. */
  readonly introspections: readonly IntrospectionLogEntry[];
  /** Every discovery fetch. */
  readonly discoveryFetches: readonly { at: number; url: string; ok: boolean; reason?: string }[];
  /** Handler exceptions that were not SynapseErrors (stand-in bugs): should stay empty. */
  readonly unexpectedErrors: readonly Error[];

  setEndpoint(endpoint: string): void;
  /** Calls whose path is `/_synapse/mas/<op>` (or a full path), optionally only successful ones. */
  callsTo(pathOrOp: string, opts?: { ok?: boolean }): CallRecord[];
  /** Resolves with the first call (already logged or future) that satisfies `predicate`; rejects after `timeoutMs`. */
  waitForCall(predicate: (c: CallRecord) => boolean, timeoutMs?: number): Promise<CallRecord>;
  clearCalls(): void;

  /** Fault switch for requests whose path matches `paths` (default: every path). */
  setFault(fault: Fault, paths?: RegExp): void;
  /** Stops listening and drops open connections: callers get "connection refused". */
  goDown(): Promise<void>;
  /** Listens again on the same port. */
  comeUp(): Promise<void>;
  readonly isDown: boolean;

  /** Stand-in time (ms): `Date.now()` plus the advance so far. Drives cache expiry, `expires_in` and the cross-signing window. */
  now(): number;
  advanceClock(ms: number): void;
  /** Switch the introspection cache on/off (off: every request introspects). Clearing keeps the setting. */
  setCacheEnabled(on: boolean): void;
  clearCache(): void;
  /** Forget the discovery document (as after a Synapse restart). */
  resetDiscovery(): void;
  /** Authenticate a token as a client request would (Synapse's get_user_by_access_token). */
  authenticate(token: string): Promise<Requester>;

  addUser(localpart: string, opts?: { displayName?: string | null; devices?: string[]; locked?: boolean; deactivated?: boolean }): StandinUser;
  addDevice(localpart: string, deviceId: string, opts?: Partial<Pick<StandinDevice, 'displayName' | 'hidden' | 'dehydrated'>>): void;
  user(localpart: string): StandinUser | undefined;
  /** A file of the media repository by its `mxc://` URI. */
  media(uri: string): StandinMedia | undefined;
  /** Knows the users and devices of a Synapse database, as the Synapse running on it does (a migration's starting point). */
  loadSynapseDatabase(db: SynapseRows): Promise<number>;
  /** Visible device IDs of a user, sorted ([] for an unknown user). */
  devices(localpart: string): string[];
  readonly state: StandinState;

  stop(): Promise<void>;
}

interface FaultRule {
  fault: Fault;
  paths?: RegExp;
}

function parseBody(raw: Buffer): unknown {
  if (!raw.length) return '';
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const COMPAT_PATH = /^\/_matrix\/client\/[^/]+\/(login|logout|refresh)(\/.*)?$/;

export async function startHomeserverStandin(opts: HomeserverStandinOptions = {}): Promise<HomeserverStandin> {
  const serverName = opts.serverName ?? DEFAULT_SERVER_NAME;
  const mode = opts.mode ?? 'stable';
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let clockOffset = 0;
  const clock = { now: () => Date.now() + clockOffset };
  const state = new StandinState(serverName);
  const appservices = opts.appservices ?? [];
  const auth = new DelegatedAuth(
    {
      mode,
      endpoint: opts.endpoint,
      secret: opts.secret ?? (mode === 'stable' ? 'test-shared-secret-0123456789abcdef' : undefined),
      legacy: opts.legacy,
      appservices,
    },
    state,
    clock,
  );
  auth.cache.enabled = opts.cache ?? true;
  const usernames = {
    serverName,
    allowUnderscorePrefix: opts.allowUnderscorePrefixedLocalpart ?? false,
    exclusiveUserRegexes: appservices.flatMap((a) => a.exclusiveUsers ?? []),
    userIdTakenCaseInsensitive: (id: string) => state.takenCaseInsensitive(id),
  };

  // /_synapse/mas/* exists in stable mode, and in msc3861 mode when an admin_token is configured (1.135–1.156).
  const routes: Route[] = [
    ...(mode === 'stable' || opts.legacy?.adminToken ? masRoutes({ auth, state, clock, usernames }) : []),
    ...adminRoutes({ auth, state, clock, usernames }),
    ...clientRoutes({ auth, state, clock, publicBaseUrl: () => `${url}/` }),
  ];

  const calls: CallRecord[] = [];
  const unexpectedErrors: Error[] = [];
  const waiters: { predicate: (c: CallRecord) => boolean; resolve: (c: CallRecord) => void }[] = [];
  let seq = 0;
  let faults: FaultRule[] = [];

  const record = (c: CallRecord) => {
    calls.push(c);
    for (const w of [...waiters]) {
      if (w.predicate(c)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(c);
      }
    }
  };

  async function route(ctx: Omit<RequestContext, 'params'>): Promise<{ status: number; body?: unknown; headers?: Record<string, string>; html?: string }> {
    const path = ctx.url.pathname;
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      const method = (ctx.method === 'HEAD' ? 'GET' : ctx.method) as keyof Route['methods'];
      const handler = r.methods[method];
      if (!handler) return { status: 405, body: unrecognized(405).body() };
      return handler({ ...ctx, params: m.groups ?? {} });
    }
    if (path.startsWith('/_synapse/mas/') || !(path.startsWith('/_matrix/') || path.startsWith('/_synapse/'))) {
      // Twisted's NoResource page, not JSON.
      return { status: 404, html: '<html><head><title>404 - No Such Resource</title></head><body><h1>No Such Resource</h1><p>No such child resource.</p></body></html>' };
    }
    return { status: 404, body: unrecognized(404).body() };
  }

  async function proxyToOp(req: IncomingMessage, res: ServerResponse, raw: Buffer, target: string) {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headersDistinct)) {
      if (['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) continue;
      for (const x of v ?? []) headers.append(k, x);
    }
    const upstream = await fetch(target, { method: req.method, headers, body: raw.length ? raw : undefined, redirect: 'manual' });
    const body = Buffer.from(await upstream.arrayBuffer());
    const out: Record<string, string | string[]> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-encoding', 'transfer-encoding', 'connection', 'content-length', 'set-cookie'].includes(k)) out[k] = v;
    });
    // Each cookie on its own header line, as a reverse proxy passes them (a joined line would break them).
    const cookies = upstream.headers.getSetCookie();
    if (cookies.length) out['set-cookie'] = cookies;
    res.writeHead(upstream.status, out).end(body);
    return { status: upstream.status, body: parseBody(body) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = Date.now();
    const reqUrl = new URL(req.url ?? '/', url);
    const raw = await readBody(req);
    const base: Omit<CallRecord, 'status' | 'response' | 'durationMs'> = {
      seq: ++seq,
      at: started,
      method: req.method ?? 'GET',
      path: reqUrl.pathname,
      query: Object.fromEntries(reqUrl.searchParams),
      authorization: req.headers.authorization,
      body: parseBody(raw),
    };
    const rule = faults.find((f) => !f.paths || f.paths.test(reqUrl.pathname));
    if (rule?.fault.kind === 'error') {
      const status = rule.fault.status ?? 500;
      const body = { errcode: 'M_UNKNOWN', error: 'Internal server error' };
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      record({ ...base, status, response: body, fault: 'error', durationMs: Date.now() - started });
      return;
    }
    if (rule?.fault.kind === 'slow') await new Promise((r) => setTimeout(r, (rule.fault as { delayMs: number }).delayMs));
    const fault = rule?.fault.kind === 'slow' ? ('slow' as const) : undefined;

    if (opts.routeCompatToOp && COMPAT_PATH.test(reqUrl.pathname) && (auth.config.endpoint || auth.config.legacy?.issuer)) {
      const target = `${(auth.config.endpoint ?? auth.config.legacy!.issuer).replace(/\/+$/, '')}${reqUrl.pathname}${reqUrl.search}`;
      try {
        const out = await proxyToOp(req, res, raw, target);
        record({ ...base, status: out.status, response: out.body, fault, durationMs: Date.now() - started });
      } catch {
        const body = { errcode: 'M_UNKNOWN', error: 'Bad gateway' };
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        record({ ...base, status: 502, response: body, fault, durationMs: Date.now() - started });
      }
      return;
    }

    let result: { status: number; body?: unknown; headers?: Record<string, string>; html?: string };
    try {
      result = await route({ method: base.method, url: reqUrl, req, body: raw });
    } catch (e) {
      if (e instanceof SynapseError) result = { status: e.status, body: e.body() };
      else {
        unexpectedErrors.push(e as Error);
        result = { status: 500, body: internalError().body() };
      }
    }
    if (res.destroyed) {
      record({ ...base, status: result.status, response: result.body, fault, durationMs: Date.now() - started });
      return;
    }
    if (result.html !== undefined) {
      res.writeHead(result.status, { 'Content-Type': 'text/html' }).end(result.html);
    } else if (result.body === undefined) {
      res.writeHead(result.status, result.headers ?? {}).end();
    } else {
      res.writeHead(result.status, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*', ...result.headers }).end(req.method === 'HEAD' ? undefined : JSON.stringify(result.body));
    }
    record({ ...base, status: result.status, response: result.body ?? result.html ?? '', fault, durationMs: Date.now() - started });
  }

  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        handle(req, res).catch((e) => {
          unexpectedErrors.push(e as Error);
          if (!res.headersSent) res.writeHead(500).end();
        });
      });
      s.keepAliveTimeout = 1000;
      s.on('connection', (sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });
  const close = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const sock of sockets) sock.destroy();
    await closed;
  };
  await listen();

  const handle_: HomeserverStandin = {
    url,
    port,
    serverName,
    mode,
    calls,
    introspections: auth.introspections,
    discoveryFetches: auth.discoveryFetches,
    unexpectedErrors,
    state,
    setEndpoint(endpoint) {
      if (mode === 'stable') auth.config.endpoint = endpoint;
      else auth.config.legacy!.issuer = endpoint;
    },
    callsTo(pathOrOp, o = {}) {
      const path = pathOrOp.startsWith('/') ? pathOrOp : `/_synapse/mas/${pathOrOp}`;
      return calls.filter((c) => c.path === path && (o.ok === undefined || o.ok === (c.status >= 200 && c.status < 300)));
    },
    waitForCall(predicate, timeoutMs = 10_000) {
      const found = calls.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          predicate,
          resolve: (c: CallRecord) => {
            clearTimeout(t);
            resolve(c);
          },
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching homeserver call within ${timeoutMs} ms (${calls.length} calls logged)`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    clearCalls() {
      calls.length = 0;
    },
    setFault(fault, paths) {
      faults = fault.kind === 'none' ? (paths ? faults.filter((f) => f.paths?.source !== paths.source) : []) : [{ fault, paths }, ...faults];
    },
    async goDown() {
      await close();
    },
    async comeUp() {
      if (!server) await listen();
    },
    get isDown() {
      return !server;
    },
    now: clock.now,
    advanceClock(ms) {
      clockOffset += ms;
    },
    setCacheEnabled(on) {
      auth.cache.enabled = on;
      if (!on) auth.cache.clear();
    },
    clearCache() {
      auth.cache.clear();
    },
    resetDiscovery() {
      auth.resetMetadata();
    },
    authenticate(token) {
      return auth.getUserByAccessToken(token);
    },
    addUser(localpart, o = {}) {
      const u = state.register(localpart, o.displayName === undefined ? localpart : o.displayName);
      u.locked = o.locked ?? false;
      u.deactivated = o.deactivated ?? false;
      for (const d of o.devices ?? []) state.upsertDevice(u, d, null);
      return u;
    },
    addDevice(localpart, deviceId, o = {}) {
      const u = state.get(localpart);
      if (!u) throw new Error(`no user ${localpart}`);
      u.devices.set(deviceId, { deviceId, displayName: o.displayName ?? null, hidden: o.hidden ?? false, dehydrated: o.dehydrated ?? false });
    },
    user: (localpart) => state.get(localpart),
    media: (uri) => state.media.get(uri),
    loadSynapseDatabase: (db) => loadSynapseDatabase(state, db),
    devices(localpart) {
      const u = state.get(localpart);
      return u
        ? state
            .visibleDevices(u)
            .map((d) => d.deviceId)
            .sort()
        : [];
    },
    async stop() {
      for (const w of waiters.splice(0)) void w;
      await close();
    },
  };
  return handle_;
}
