import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { Browser, forms, type BrowserResponse } from '../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { oidcPeerWithClients, peerAdminLogout, removeOidcPeerClients, withPeerUser } from '../support/oidc-peer.js';
import { startOtlpReceiver, traceTree, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { fixtureKeys, idpMetadataXml } from '../support/saml-forge.js';
import type { Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { CausewayDb } from '../support/causeway-db.js';
import { AuditLogEntity } from '../../src/storage/entities/index.js';
import { findSample, parseMetrics, type MetricFamily } from '../support/prometheus-text.js';

/**
 * What an operator sees of a sign-in, end to end: a brokered sign-in through the real OIDC peer
 * (PostgreSQL, Redis, homeserver stand-in) traced to an OTLP/HTTP receiver started here; the audit
 * trail in the database and as JSON lines; /metrics as Prometheus parses it.
 */

const RUN = randomBytes(4).toString('hex');
const CLIENT_ID = `causeway-obs-${RUN}`;
const CLIENT_SECRET = randomBytes(16).toString('hex');
const REDIRECT = 'http://127.0.0.1:9/app/callback';
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `causeway:test:${RUN}:`;
const S = 'urn:matrix:client:';

let peer: Peer;
let otlp: OtlpReceiver;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let db: CausewayDb;
let metadataServer: Server;
let client: string;
let auditFile: string;

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  peer = await oidcPeerWithClients({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${base}upstream/peer/callback`],
    backchannel_logout_uri: `${base}upstream/peer/backchannel-logout`,
  });
  otlp = await startOtlpReceiver();
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET });
  // SAML IdP metadata from a URL, for causeway_saml_metadata_age_seconds.
  const idp = fixtureKeys('idp');
  metadataServer = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idpMetadataXml({ entityId: 'https://idp.example.test/idp', ssoUrl: 'https://idp.example.test/sso', certs: [idp.cert] })),
  );
  const metadataPort = await freePort();
  await new Promise<void>((r) => metadataServer.listen(metadataPort, '127.0.0.1', r));
  const sp = fixtureKeys('sp');
  cw = await startCauseway({
    port,
    db: 'postgres',
    config: {
      redis: { url: REDIS_URL, key_prefix: PREFIX },
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      admin: { token: ADMIN_TOKEN },
      telemetry: { tracing: { exporter: 'otlp', endpoint: otlp.endpoint } },
      audit: { stream: 'file', file: 'audit.jsonl' },
      upstream: {
        providers: [
          {
            id: 'peer',
            kind: 'oidc',
            name: 'Example IdP',
            issuer: peer.url,
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            allow_insecure_http: true,
            scopes: ['openid', 'profile', 'email', 'groups'],
            attribute_requirements: [{ attribute: 'groups', contains: 'staff' }],
            backchannel_logout: true,
          },
          {
            id: 'corp',
            kind: 'saml',
            name: 'Corporate SAML',
            metadata_url: `http://127.0.0.1:${metadataPort}/metadata`,
            allow_insecure_http: true,
            sp: { key_file: sp.keyFile, cert_file: sp.certFile },
          },
        ],
      },
    },
  });
  auditFile = join(cw.dir, 'audit.jsonl');
  db = await CausewayDb.open(cw.database);
  client = await registerClient();
}, 600_000);

afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, CLIENT_ID);
  await db?.ds.destroy();
  await cw?.dispose();
  await hs?.stop();
  await otlp?.close();
  await new Promise((r) => (metadataServer ? metadataServer.close(r) : r(undefined)));
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

async function registerClient(): Promise<string> {
  const res = await fetch(`${cw.url}/oauth2/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Observed app',
      client_uri: 'http://127.0.0.1:9/app/',
      redirect_uris: [REDIRECT],
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

const hex = (n: number) => randomBytes(n).toString('hex');

/**
 * A person signs in at the peer and allows the client; the client exchanges the code. Every
 * request carries `headers` (a traceparent, as a tracing proxy in front of Causeway would add).
 */
async function signIn(user: string, headers: Record<string, string> = {}) {
  const verifier = hex(32);
  const device = `OBS${hex(3).toUpperCase()}`;
  const url = new URL(`${cw.url}/authorize`);
  const state = hex(8);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: client,
    redirect_uri: REDIRECT,
    scope: `openid ${S}api:* ${S}device:${device}`,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    provider: 'peer',
  }))
    url.searchParams.set(k, v);
  const browser = new Browser(headers);
  let res: BrowserResponse & { stoppedAt?: string } = await browser.go(url.href, {}, (u) => u.startsWith(REDIRECT));
  for (let step = 0; step < 6 && !res.stoppedAt; step++) {
    const form = forms(res.body, res.url)[0];
    if (res.status !== 200 || !form) break;
    if (res.url.startsWith(peer.url) && 'password' in form.fields) res = await browser.submit(form, { username: user, password: `${user}pass` }, (u) => u.startsWith(REDIRECT));
    else if (form.action.endsWith('/consent')) res = await browser.submit(form, { decision: 'allow' }, (u) => u.startsWith(REDIRECT));
    else break;
  }
  if (!res.stoppedAt) return { res, device };
  const code = new URL(res.stoppedAt).searchParams.get('code')!;
  const token = await fetch(`${cw.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client, code_verifier: verifier }),
  });
  expect(token.status).toBe(200);
  return { res, device, tokens: (await token.json()) as { access_token: string; refresh_token: string } };
}

async function refresh(refreshToken: string) {
  return fetch(`${cw.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'obs-refresher/1.0' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client }),
  });
}

const json = (line: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

describe('tracing: a brokered sign-in through the OIDC peer is one trace', () => {
  const traceId = hex(16);
  const proxySpan = hex(8);
  let spans: ReceivedSpan[];
  const named = (name: string | RegExp) => spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
  const one = (name: string | RegExp) => {
    const found = named(name);
    expect(found.map((s) => s.name)).toHaveLength(1);
    return found[0]!;
  };
  const parentOf = (s: ReceivedSpan) => spans.find((p) => p.spanId === s.parentSpanId);
  const ancestors = (s: ReceivedSpan) => {
    const chain: string[] = [];
    for (let p = parentOf(s); p; p = parentOf(p)) chain.push(p.name);
    return chain;
  };

  beforeAll(() =>
    withPeerUser(peer, 'alice', async () => {
      const { tokens } = await signIn('alice', { traceparent: `00-${traceId}-${proxySpan}-01` });
      expect(tokens?.access_token).toBeDefined();
      await otlp.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === 'POST /oauth2/token' && s.endNs > 0n));
      // The batch after the last request's spans (BatchSpanProcessor exports every second).
      await new Promise((r) => setTimeout(r, 1500));
      spans = otlp.spans.filter((s) => s.traceId === traceId);
      process.stdout.write(`trace ${traceId}:\n${traceTree(otlp.spans, traceId)}\n`);
    }),
  );

  it('every HTTP request of the sign-in is a server span, child of the proxy’s traceparent', () => {
    const server = spans.filter((s) => s.kind === 2);
    expect(server.map((s) => s.name)).toEqual(expect.arrayContaining(['GET /authorize', 'GET /upstream/:providerId/callback', 'POST /login/:loginId/consent', 'POST /oauth2/token']));
    for (const s of server) {
      expect(s.parentSpanId).toBe(proxySpan);
      expect(s.service).toBe('causeway');
      // The URL is recorded without its query (codes and state travel there).
      expect(String(s.attributes['url.path'])).not.toContain('?');
    }
    expect(otlp.rejected).toBe(0);
  });

  it('each login step is a span under the request that ran it', () => {
    const callback = one('GET /upstream/:providerId/callback');
    const event = one('login.event UPSTREAM_CALLBACK');
    expect(event.parentSpanId).toBe(callback.spanId);
    expect(event.attributes['causeway.login.state_before']).toBe('awaitingCallback.waiting');
    for (const step of ['completeUpstream', 'mapIdentity', 'linkIdentity', 'startSession', 'checkConsent']) {
      expect(parentOf(one(`login.step ${step}`))?.spanId).toBe(event.spanId);
    }
    expect(ancestors(one('login.step beginUpstream'))).toEqual(['login.event START', 'GET /authorize']);
    expect(ancestors(one('login.step completeLogin'))).toEqual(['login.event CONSENT_GIVEN', 'POST /login/:loginId/consent']);
  });

  it('upstream IdP calls (token, userinfo) are client spans of the completeUpstream step, with their HTTP request below', () => {
    for (const kind of ['token', 'userinfo']) {
      const call = one(`upstream.${kind}`);
      expect(call.kind).toBe(3);
      expect(call.attributes['causeway.provider']).toBe('peer');
      expect(parentOf(call)?.name).toBe('login.step completeUpstream');
      const http = spans.filter((s) => s.parentSpanId === call.spanId && s.kind === 3);
      expect(http.length).toBeGreaterThanOrEqual(1);
      for (const h of http) expect(String(h.attributes['url.full'])).toMatch(new RegExp(`^${peer.url}/[^?]*$`));
    }
  });

  it('homeserver calls are client spans of the step that made them', () => {
    // Provisioned before the code is issued; the device is affirmed again when the code is exchanged.
    const provision = one('homeserver POST /_synapse/mas/provision_user');
    const upserts = named('homeserver POST /_synapse/mas/upsert_device');
    expect(ancestors(provision)).toEqual(['login.step completeLogin', 'login.event CONSENT_GIVEN', 'POST /login/:loginId/consent']);
    expect(upserts.map(ancestors)).toEqual([['login.step completeLogin', 'login.event CONSENT_GIVEN', 'POST /login/:loginId/consent'], ['POST /oauth2/token']]);
    for (const call of [provision, ...upserts]) {
      expect(call.kind).toBe(3);
      expect(call.attributes['http.response.status_code']).toEqual(expect.any(Number));
      expect(call.attributes['http.response.status_code'] as number).toBeLessThan(300);
    }
  });

  it('database statements and Redis commands are client spans inside the trace', () => {
    const pg = spans.filter((s) => s.name.startsWith('pg.query'));
    expect(pg.length).toBeGreaterThan(3);
    for (const s of pg) expect(parentOf(s)).toBeDefined();
    // The linking step read and wrote the user's rows.
    expect(pg.some((s) => parentOf(s)?.name === 'login.step linkIdentity')).toBe(true);
    const redis = spans.filter((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis');
    expect(redis.map((s) => s.name)).toEqual(expect.arrayContaining(['get', 'set']));
    for (const s of redis) {
      expect(parentOf(s)).toBeDefined();
      // Keys are cut before their variable part (an upstream `state` is a secret).
      const statement = String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? '');
      expect(statement).not.toMatch(/upstream-state:[A-Za-z0-9_-]{10,}/);
    }
  });

  it('every log line written while handling those requests carries the trace id', () => {
    const lines = cw.logs.map(json).filter((l): l is Record<string, unknown> => !!l);
    const requestIds = new Set(spans.filter((s) => s.kind === 2).map((s) => String(s.attributes['causeway.request_id'])));
    expect(requestIds.size).toBeGreaterThanOrEqual(4);
    const ofTheseRequests = lines.filter((l) => requestIds.has(String(l.reqId)));
    // The access-log line of each request, and the lines its work wrote (at least the sign-in's).
    expect(ofTheseRequests.filter((l) => l.msg === 'request')).toHaveLength(requestIds.size);
    expect(ofTheseRequests.length).toBeGreaterThan(requestIds.size);
    for (const l of ofTheseRequests) expect(l).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // The access log names the client address.
    expect(ofTheseRequests.find((l) => l.msg === 'request')).toMatchObject({ ip: '127.0.0.1' });
  });
});

describe('audit trail: rows and JSON lines', () => {
  let alice: NonNullable<Awaited<ReturnType<typeof signIn>>['tokens']>;
  let aliceId: string;

  const rows = async () => (await db.ds.manager.find(AuditLogEntity, { order: { id: 'ASC' } })) as AuditLogEntity[];
  const lines = () =>
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  /** The row and the JSON line of one event: both present, saying the same. */
  async function event(action: string, match: (r: AuditLogEntity) => boolean) {
    const row = (await rows()).find((r) => r.action === action && match(r));
    expect(row).toBeDefined();
    const line = lines().find((l) => l.id === row!.id);
    expect(line).toMatchObject({ type: 'audit', action, actor: row!.actor, user_id: row!.user_id, target: row!.target });
    return { row: row!, line: line!, details: row!.details as Record<string, unknown> };
  }

  beforeAll(() =>
    withPeerUser(peer, 'alice', async () => {
      alice = (await signIn('alice')).tokens!;
      expect(alice).toBeDefined();
    }),
  );

  it('a successful sign-in: provider, outcome, user, client, address, user agent', async () => {
    const { row, line, details } = await event('login.attempt', (r) => (r.details as { outcome?: string }).outcome === 'success');
    aliceId = row.user_id!;
    expect(aliceId).toMatch(/^[0-9A-Z]{26}$/);
    expect(row.actor).toBe(`user:${aliceId}`);
    expect(details).toMatchObject({ provider: 'peer', outcome: 'success', client_id: client, subject: 'alice', ip: '127.0.0.1', user_agent: 'causeway-tests' });
    expect(line).toMatchObject({ ip: '127.0.0.1', user_agent: 'causeway-tests', details: { provider: 'peer', outcome: 'success', client_id: client } });
  });

  it('a refused sign-in (attribute requirement failed): outcome failure, reason requirement_failed, no user', () =>
    withPeerUser(peer, 'bob', async () => {
      const { res } = await signIn('bob');
      expect(res.status).toBe(403);
      const { row, details } = await event('login.attempt', (r) => (r.details as { subject?: string }).subject === 'bob');
      expect(row.user_id).toBeNull();
      expect(row.actor).toBe('anonymous');
      expect(details).toMatchObject({ provider: 'peer', outcome: 'failure', reason: 'requirement_failed', client_id: client, ip: '127.0.0.1' });
    }));

  it('consent given, then the authorization code and the tokens issued to the client', async () => {
    const consent = await event('consent.granted', (r) => r.user_id === aliceId);
    expect(consent.details).toMatchObject({ client_id: client, scope: expect.arrayContaining([`${S}api:*`]) });
    const code = await event('authorization_code.issued', (r) => r.user_id === aliceId);
    expect(code.details).toMatchObject({ client_id: client, device_id: expect.stringMatching(/^OBS/) });
    const token = await event('token.issued', (r) => r.user_id === aliceId && (r.details as { grant?: string }).grant === 'authorization_code');
    expect(token.row.actor).toBe(`client:${client}`);
    expect(token.details).toMatchObject({ client_id: client, device_id: code.details.device_id, refresh_token: true, scope: expect.arrayContaining(['openid']) });
  });

  it('a refresh, then the reuse of the rotated refresh token: the session ends and the reuse is recorded', async () => {
    const first = await refresh(alice.refresh_token);
    expect(first.status).toBe(200);
    const next = (await first.json()) as { access_token: string };
    // The successor is used: presenting the old refresh token again is a replay.
    await fetch(`${cw.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${next.access_token}` } });
    await fetch(`${cw.url}/oauth2/introspect`, { method: 'POST', headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${next.access_token}` });
    const replay = await refresh(alice.refresh_token);
    expect(replay.status).toBe(400);
    const issued = await event('token.issued', (r) => r.user_id === aliceId && (r.details as { grant?: string }).grant === 'refresh_token');
    expect(issued.details).toMatchObject({ user_agent: 'obs-refresher/1.0' });
    const reuse = await event('refresh_token.reused', (r) => r.user_id === aliceId);
    expect(reuse.row.actor).toBe(`client:${client}`);
    expect(reuse.details).toMatchObject({ client_id: client, session_ended: true, ip: '127.0.0.1' });
  });

  it('an upstream logout received (OIDC back-channel logout from the peer)', () =>
    withPeerUser(peer, 'alice', async () => {
      const fresh = (await signIn('alice')).tokens!;
      expect(fresh).toBeDefined();
      await peerAdminLogout(peer, 'alice');
      const { row, details } = await event('upstream_logout.received', (r) => r.user_id === aliceId && ((r.details as { sessions_ended?: number }).sessions_ended ?? 0) > 0);
      expect(row.actor).toBe('upstream:peer');
      expect(details).toMatchObject({ provider: 'peer', by: 'sid' });
    }));

  it('an admin action, with the admin as actor', async () => {
    const res = await fetch(`${cw.url}/api/admin/v1/users/${aliceId}/lock`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'user-agent': 'ops-script/2' } });
    expect(res.status).toBe(200);
    const { row, details } = await event('user.lock', (r) => r.user_id === aliceId);
    expect(row.actor).toBe('admin-token');
    expect(details).toMatchObject({ localpart: 'alice', user_agent: 'ops-script/2' });
    await fetch(`${cw.url}/api/admin/v1/users/${aliceId}/unlock`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  });

  it('the whole trail of a user through the admin API', async () => {
    const res = await fetch(`${cw.url}/api/admin/v1/audit?user=${aliceId}&limit=200`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const actions = new Set(((await res.json()) as { data: { action: string }[] }).data.map((r) => r.action));
    for (const a of ['login.attempt', 'consent.granted', 'authorization_code.issued', 'token.issued', 'refresh_token.reused', 'upstream_logout.received', 'user.lock', 'user.unlock']) {
      expect([a, actions.has(a)]).toEqual([a, true]);
    }
  });
});

describe('/metrics', () => {
  let families: Map<string, MetricFamily>;

  beforeAll(async () => {
    const res = await fetch(`${cw.url}/metrics`);
    expect(res.status).toBe(200);
    families = parseMetrics(await res.text());
    process.stdout.write(
      `metrics:\n${[...families.values()]
        .map(
          (f) =>
            `${f.name} ${f.type}${
              f.samples[0] && Object.keys(f.samples[0].labels).length
                ? ` {${Object.keys(f.samples[0].labels)
                    .filter((l) => l !== 'le')
                    .join(',')}}`
                : ''
            }`,
        )
        .join('\n')}\n`,
    );
  });

  it('has the standard process and Node.js metrics under their usual names', () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(families.has(name)).toBe(true);
    }
    expect([...families.keys()].filter((n) => n.startsWith('causeway_process_') || n.startsWith('causeway_nodejs_'))).toEqual([]);
  });

  it('has every metric of the issue, with samples', () => {
    const sample = (name: string, labels: Record<string, string> = {}) => findSample(families, name, labels);
    const info = families.get('causeway_build_info')!.samples[0]!;
    expect(info.labels).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), commit: expect.stringMatching(/^([0-9a-f]{7,40}|unknown)$/) });
    expect(info.value).toBe(1);
    expect(sample('causeway_logins_total', { provider: 'peer', outcome: 'success' })?.value).toBeGreaterThanOrEqual(1);
    expect(sample('causeway_logins_total', { provider: 'peer', outcome: 'failure' })?.value).toBeGreaterThanOrEqual(1);
    expect(sample('causeway_tokens_issued_total', { grant: 'authorization_code' })?.value).toBeGreaterThanOrEqual(1);
    expect(sample('causeway_tokens_issued_total', { grant: 'refresh_token' })?.value).toBeGreaterThanOrEqual(1);
    expect(families.get('causeway_upstream_request_duration_seconds')?.type).toBe('histogram');
    for (const kind of ['discovery', 'token', 'userinfo']) expect(sample('causeway_upstream_request_duration_seconds_count', { provider: 'peer', kind, outcome: 'ok' })).toBeDefined();
    expect(sample('causeway_upstream_request_duration_seconds_count', { provider: 'corp', kind: 'saml_metadata', outcome: 'ok' })).toBeDefined();
    expect(families.get('causeway_homeserver_request_duration_seconds')?.type).toBe('histogram');
    expect(sample('causeway_homeserver_request_duration_seconds_count', { endpoint: '/_synapse/mas/provision_user', method: 'POST', outcome: '2xx' })).toBeDefined();
    expect(sample('causeway_introspection_cache_lookups_total', { result: 'miss' })?.value).toBeGreaterThanOrEqual(1);
    expect(families.has('causeway_introspection_cache_lookups_total')).toBe(true);
    expect(sample('causeway_saml_metadata_age_seconds', { provider: 'corp' })?.value).toBeGreaterThanOrEqual(0);
    expect(families.has('causeway_events_dead_letters')).toBe(true);
    expect(families.has('causeway_events_dead_lettered_total')).toBe(true);
  });

  it('one name per metric and conventional suffixes', () => {
    // A family name in OpenMetrics terms: a counter `x_total` is the family `x`; nothing else may use `x`.
    const base = (f: MetricFamily) => (f.type === 'counter' ? f.name.replace(/_total$/, '') : f.type === 'gauge' ? f.name.replace(/_info$/, '') : f.name);
    const seen = new Map<string, string>();
    for (const f of families.values()) {
      expect(seen.get(base(f))).toBeUndefined();
      seen.set(base(f), f.name);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      expect(f.help.length).toBeGreaterThan(0);
      // Ours (the standard Node.js set is what dashboards expect, quirks included: nodejs_active_resources_total is a gauge).
      if (!f.name.startsWith('causeway_')) continue;
      expect(f.name).toMatch(/^causeway_[a-z0-9_]+$/);
      if (f.type !== 'counter') expect(f.name).not.toMatch(/_total$/);
      if (/duration|latency|age|lag/.test(f.name)) expect(f.name).toMatch(/_seconds$/);
      if (f.type === 'gauge' && f.name.endsWith('_info')) expect(f.samples.every((x) => x.value === 1)).toBe(true);
    }
  });
});
