// Any replica can carry on any login: two Causeway processes share PostgreSQL and Redis behind a
// round-robin proxy (as behind a Kubernetes Service), with the homeserver stand-in in front of them as
// Synapse would be. A login begun on one replica is completed on the other (the login machine's
// snapshot travels through Redis), tokens issued by one are known to the other (revocation too,
// despite introspection caches), a sign-out taken by one replica reaches the homeserver exactly once,
// a rolling restart with 20 logins in flight fails none of them, and SIGTERM lets in-flight requests
// finish, refuses new connections and hands the event-bus messages it holds back to the other replica.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Browser, type BrowserResponse } from '../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { CausewayDb, waitUntil } from '../support/causeway-db.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { freePort } from '../support/ports.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';
import { registerClient } from '../integration/oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, devSignIn, exchange, pkce, toClient, webClient } from '../integration/login/login-flow.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const SHARDS = 8;
const ADMIN_CLIENT = { id: 'admin-tool', secret: 'admin-tool-secret-0123456789abcdef' };
const basic = `Basic ${Buffer.from(`${ADMIN_CLIENT.id}:${ADMIN_CLIENT.secret}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A browser whose every request names its flow, so the proxy log tells which replica served which login. */
class FlowBrowser extends Browser {
  constructor(readonly flow: string) {
    super();
  }
  override request(url: string, opts: Parameters<Browser['request']>[1] = {}) {
    return super.request(url, { ...opts, headers: { ...opts.headers, 'x-test-flow': this.flow } });
  }
}

// Several replicas need PostgreSQL (one SQLite file cannot be shared between pods).
const suite = TEST_DBS.includes('postgres') ? describe : describe.skip;

suite('two replicas on shared PostgreSQL and Redis', () => {
  let dir: string;
  let db: TestDatabase;
  let hs: HomeserverStandin;
  let proxy: RoundRobinProxy;
  let config: Record<string, unknown>;
  let clientId: string;
  let redis: Redis;
  const replicas: Record<string, CausewayProcess> = {};
  /** Name of each replica in the proxy's rotation (the restarted replica 1 goes back in as r1-new). */
  const inRotation: Record<string, string> = { r1: 'r1', r2: 'r2' };
  const prefix = `causeway:test:${randomBytes(4).toString('hex')}:`;

  const startReplica = async (name: string, port?: number) => {
    mkdirSync(join(dir, name), { recursive: true });
    const r = await startCauseway({ database: db, config, dir: join(dir, name), ...(port ? { port } : {}) });
    replicas[name] = r;
    return r;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'causeway-replicas-'));
    db = await freshDatabase('postgres', dir);
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    // What the Helm chart gives every pod: the same public URL, keys, secrets, database and Redis.
    const keyFile = join(dir, 'rs1.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const proxyPort = await freePort();
    config = {
      replicas: 2,
      http: { public_base: `http://127.0.0.1:${proxyPort}/` },
      redis: { url: REDIS_URL, key_prefix: prefix },
      secrets: { keys: [{ kid: 'rs1', key_file: keyFile }] },
      matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      tokens: { introspection_cache_ttl: 60 },
      // A short claim_idle keeps the shard balancing quick; the hand-back test tells hand-back from takeover.
      events: { shards: SHARDS, claim_idle: 3, backoff_initial_ms: 100, backoff_max_ms: 1000 },
      logging: { level: 'info' },
      clients: [
        {
          client_id: ADMIN_CLIENT.id,
          client_auth_method: 'client_secret_basic',
          client_secret: ADMIN_CLIENT.secret,
          grant_types: ['client_credentials'],
          client_credentials_scopes: ['urn:synapse:admin:*'],
        },
      ],
    };
    // One after the other: the first one migrates the fresh schema.
    await startReplica('r1');
    await startReplica('r2');
    proxy = await startRoundRobinProxy(proxyPort, { r1: replicas.r1!.url, r2: replicas.r2!.url });
    // Synapse reaches Causeway through the Service too.
    hs.setEndpoint(`${proxy.url}/`);
    clientId = await registerClient(proxy.url, webClient('Multi-replica client'));
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(Object.values(replicas).map((r) => r.stop()));
    await hs?.stop();
    await db?.drop();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (base: string) =>
    fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=urn%3Asynapse%3Aadmin%3A*',
    });
  const introspect = async (base: string, t: string) => {
    const res = await fetch(`${base}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded', 'x-mas-supports-device-id': '1' },
      body: new URLSearchParams({ token: t }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { active: boolean; scope?: string; client_id?: string; username?: string; device_id?: string };
  };
  const revoke = async (base: string, t: string) => {
    const res = await fetch(`${base}/oauth2/revoke`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t }),
    });
    expect(res.status).toBe(200);
  };
  const whoami = (t: string) => fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${t}` } });

  /**
   * One user's sign-in through the proxy, as a browser without JavaScript does it: /authorize → dev
   * sign-in form → consent → code → token → a Matrix request on the homeserver. `between` runs
   * between the steps (pauses, barriers). Returns what went wrong, or nothing.
   */
  async function login(flow: string, between: (step: string) => Promise<void> = async () => {}, signedIn?: (s: { localpart: string; deviceId: string; accessToken: string }) => void): Promise<string[]> {
    const browser = new FlowBrowser(flow);
    const localpart = `user-${flow}-${randomBytes(3).toString('hex')}`;
    const deviceId = `DEV${randomBytes(4).toString('hex').toUpperCase()}`;
    const p = pkce();
    try {
      let res: BrowserResponse & { stoppedAt?: string } = await browser.go(authorizeUrl(proxy.url, { clientId, deviceId, challenge: p.challenge, state: flow }), {}, toClient);
      await between('signed-out');
      res = await devSignIn(browser, res, localpart);
      await between('signed-in');
      res = await decide(browser, res, 'allow');
      if (!res.stoppedAt) return [`${flow}: no redirect to the client after consent (${res.status})`];
      const { code, state } = codeOf(res.stoppedAt);
      if (state !== flow || !code) return [`${flow}: redirect without code/state: ${res.stoppedAt}`];
      await between('consented');
      const tokens = await exchange(proxy.url, clientId, code, p.verifier);
      if (tokens.status !== 200) return [`${flow}: token ${tokens.status} ${JSON.stringify(tokens.json)}`];
      const me = await whoami(tokens.json.access_token!);
      const body = (await me.json()) as { user_id?: string; device_id?: string };
      if (me.status !== 200 || body.user_id !== `@${localpart}:${hs.serverName}` || body.device_id !== deviceId) return [`${flow}: whoami ${me.status} ${JSON.stringify(body)}`];
      signedIn?.({ localpart, deviceId, accessToken: tokens.json.access_token! });
      return [];
    } catch (e) {
      return [`${flow}: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`];
    }
  }

  /** The consumer name each replica's event bus announced at start-up. */
  const consumerOf = (r: CausewayProcess) => {
    const line = r.logs.find((l) => l.includes('event bus on Redis Streams started'));
    if (!line) throw new Error('the replica did not start the Redis Streams bus');
    return (JSON.parse(line) as { consumer: string }).consumer;
  };
  const leaseOwners = async () => {
    const owners: string[] = [];
    for (let n = 0; n < SHARDS; n++) owners.push((await redis.get(`${prefix}events:lease:${n}`)) ?? '');
    return owners;
  };
  /** Unacknowledged messages per consumer, over every shard. */
  const pendingByConsumer = async () => {
    const out: Record<string, number> = {};
    for (let n = 0; n < SHARDS; n++) {
      const summary = (await redis.xpending(`${prefix}events:${n}`, 'causeway').catch(() => [0, null, null, null])) as [number, unknown, unknown, [string, string][] | null];
      for (const [consumer, count] of summary[3] ?? []) out[consumer] = (out[consumer] ?? 0) + Number(count);
    }
    return out;
  };
  const signOut = async (base: string, accessToken: string) => {
    const res = await fetch(`${base}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: accessToken, token_type_hint: 'access_token', client_id: clientId }),
    });
    expect(res.status).toBe(200);
  };
  /** sync_devices calls for a user after call number `since` (provisioning makes one of its own). */
  const syncCallsFor = (localpart: string, since: number) => hs.callsTo('sync_devices').filter((c) => c.seq > since && (c.body as { localpart?: string }).localpart === localpart);
  const lastCall = () => hs.calls.at(-1)?.seq ?? 0;

  it('both replicas publish the same issuer and keys', async () => {
    const [d1, d2] = await Promise.all(['r1', 'r2'].map((n) => fetch(`${replicas[n]!.url}/.well-known/openid-configuration`).then((r) => r.json() as Promise<Record<string, unknown>>)));
    expect(d1!.issuer).toBe((config.http as { public_base: string }).public_base);
    expect(d2).toEqual(d1);
    const [k1, k2] = await Promise.all(['r1', 'r2'].map((n) => fetch(`${replicas[n]!.url}/oauth2/keys.json`).then((r) => r.json())));
    expect(k2).toEqual(k1);
  });

  it('a login begun on replica 1 is completed on replica 2, and its token works on the homeserver', async () => {
    // /authorize (which creates the login and its snapshot) on r1, every later step on r2.
    proxy.route = (_method, path) => (path.startsWith('/authorize') ? 'r1' : 'r2');
    try {
      const flow = 'handover';
      const failures = await login(flow);
      expect(failures).toEqual([]);
      const served = proxy.log.filter((e) => e.flow === flow);
      expect(served[0]).toMatchObject({ method: 'GET', replica: 'r1' });
      expect(served[0]!.path).toMatch(/^\/authorize\?/);
      expect(served.slice(1).map((e) => e.replica)).toEqual(served.slice(1).map(() => 'r2'));
      expect(served.length).toBeGreaterThanOrEqual(3); // the sign-in form and consent were served by r2
      expect(served.every((e) => e.status < 400)).toBe(true);
    } finally {
      proxy.route = undefined;
    }
  });

  it('a token issued by one replica introspects on the other; revoked on the other, it is inactive on both long before the cache entry expires', async () => {
    const res = await token(replicas.r1!.url);
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(await introspect(replicas.r2!.url, access_token)).toMatchObject({ active: true, client_id: ADMIN_CLIENT.id, scope: 'urn:synapse:admin:*' });
    // Both replicas now hold the answer in their introspection cache (60 s) ...
    expect((await introspect(replicas.r1!.url, access_token)).active).toBe(true);
    // ... and a revocation on the other one clears it everywhere (Redis pub/sub), not when the cache
    // entry expires a minute later. The message travels asynchronously: allow it a moment, well under the TTL.
    await revoke(replicas.r2!.url, access_token);
    let seen = await introspect(replicas.r1!.url, access_token);
    for (let i = 0; i < 100 && seen.active; i++) {
      await sleep(20);
      seen = await introspect(replicas.r1!.url, access_token);
    }
    expect(seen).toEqual({ active: false });
    expect(await introspect(replicas.r2!.url, access_token)).toEqual({ active: false });
  });

  it('a user’s token from a login on one replica introspects on the other with the user and device', async () => {
    proxy.route = (_method, path) => (path.startsWith('/oauth2/token') ? 'r2' : 'r1');
    try {
      const browser = new FlowBrowser('introspect');
      const p = pkce();
      let res = await browser.go(authorizeUrl(proxy.url, { clientId, deviceId: 'INTROSPECT1', challenge: p.challenge }), {}, toClient);
      res = await devSignIn(browser, res, 'introspected');
      res = await decide(browser, res, 'allow');
      const tokens = await exchange(proxy.url, clientId, codeOf(res.stoppedAt!).code!, p.verifier);
      expect(tokens.status).toBe(200);
      expect(await introspect(replicas.r1!.url, tokens.json.access_token!)).toMatchObject({ active: true, username: 'introspected', device_id: 'INTROSPECT1' });
    } finally {
      proxy.route = undefined;
    }
  });

  it('a sign-out taken by one replica reaches the homeserver exactly once, though both replicas run the event bus', async () => {
    // Both replicas consume: the shards are split between them.
    await waitUntil(async () => new Set(await leaseOwners()).size === 2 && !(await leaseOwners()).includes(''), 20_000, 'both replicas to hold shards');
    expect(new Set(await leaseOwners())).toEqual(new Set([consumerOf(replicas.r1!), consumerOf(replicas.r2!)]));
    let user!: { localpart: string; deviceId: string; accessToken: string };
    expect(await login('signout', undefined, (u) => (user = u))).toEqual([]);
    expect(hs.devices(user.localpart)).toEqual([user.deviceId]);
    // The new account's own event (provision_user, then a device sync, as MAS's ProvisionUserJob)
    // travels the bus too; let it arrive before counting the sign-out's calls.
    const store = await CausewayDb.open(db);
    try {
      await waitUntil(async () => (await store.undelivered()) === 0, 20_000, 'the account provisioning to reach the homeserver');
    } finally {
      await store.close();
    }

    const mark = lastCall();
    await signOut(replicas.r1!.url, user.accessToken);
    await waitUntil(() => hs.devices(user.localpart).length === 0, 20_000, 'the device to be removed from the homeserver');
    // Settled: nothing left unacknowledged anywhere, then count the calls.
    await waitUntil(async () => Object.values(await pendingByConsumer()).every((n) => n === 0), 20_000, 'every stream message to be acknowledged');
    expect(syncCallsFor(user.localpart, mark).map((c) => [c.status, c.body])).toEqual([[200, { localpart: user.localpart, devices: [] }]]);
    expect((await introspect(replicas.r2!.url, user.accessToken)).active).toBe(false);
  });

  it('a rolling restart (replica 1 leaves the endpoints, gets SIGTERM, comes back) with 20 logins in flight fails none of them', async () => {
    const before = proxy.log.length;
    // Barriers hold every login between two steps while the restart goes on, so that each of them
    // has state written by the old replica 1 or by replica 2 and finishes after it.
    let releaseSignIn!: () => void;
    let releaseConsent!: () => void;
    const signInGate = new Promise<void>((r) => (releaseSignIn = r));
    const consentGate = new Promise<void>((r) => (releaseConsent = r));
    let atSignIn = 0;
    const logins = Array.from({ length: 20 }, (_, i) =>
      login(`roll${i}`, async (step) => {
        if (step === 'signed-out') {
          atSignIn++;
          await signInGate;
          await sleep(Math.random() * 300); // sign-ins spread over the shutdown
        }
        if (step === 'signed-in') await consentGate;
        if (step === 'consented') await sleep(Math.random() * 100);
      }),
    );
    for (let i = 0; i < 300 && atSignIn < 20; i++) await sleep(20);
    expect(atSignIn).toBe(20);

    // Kubernetes: the pod leaves the endpoints, preStop sleeps, SIGTERM; the logins go on meanwhile.
    const old = replicas.r1!;
    releaseSignIn();
    await sleep(50);
    proxy.drain('r1');
    await sleep(200);
    expect(await old.stop()).toBe(0);
    const restarted = await startReplica('r1', old.port);
    proxy.add('r1-new', restarted.url);
    inRotation.r1 = 'r1-new';
    releaseConsent();

    const failures = (await Promise.all(logins)).flat();
    expect(failures).toEqual([]);
    const during = proxy.log.slice(before);
    expect(during.filter((e) => e.status >= 500)).toEqual([]);
    // The logins really crossed the restart: begun on the old replica 1, finished on the new one.
    const crossed = Array.from({ length: 20 }, (_, i) => new Set(during.filter((e) => e.flow === `roll${i}`).map((e) => e.replica)));
    expect(crossed.some((s) => s.has('r1') && s.has('r1-new'))).toBe(true);
    expect(new Set(during.map((e) => e.replica))).toEqual(new Set(['r1', 'r2', 'r1-new']));
  });

  it('SIGTERM: new connections are refused, a request in flight completes, the process exits 0', async () => {
    const r3 = await startReplica('r3');
    // A token request whose body is still arriving when the signal comes.
    const body = 'grant_type=client_credentials&scope=urn%3Asynapse%3Aadmin%3A*';
    const socket = connect(r3.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let response = '';
    socket.on('data', (c) => (response += c));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    await sleep(200);
    r3.proc.kill('SIGTERM');
    // Stops accepting: a new connection is refused while the old one is still open.
    let refused = false;
    for (let i = 0; i < 200 && !refused; i++) {
      refused = await fetch(`${r3.url}/health/live`).then(
        () => false,
        () => true,
      );
      if (!refused) await sleep(50);
    }
    expect(refused).toBe(true);
    expect(r3.proc.exitCode).toBeNull();
    // Finishes in-flight work: the rest of the body arrives and the token is issued.
    socket.write(body.slice(10)); // (no half-close: like a browser or a proxy, the client waits for the answer)
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    const accessToken = (JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { access_token: string }).access_token;
    expect((await introspect(replicas.r2!.url, accessToken)).active).toBe(true);
    // Closes its database and Redis connections: close() resolves only then, and only then exit(0).
    expect(await r3.exited).toBe(0);
    expect(r3.logs.some((l) => /shutdown (failed|took too long)/.test(l))).toBe(false);
    delete replicas.r3;
  });

  it('SIGTERM hands the stream messages a replica holds back to the other one, and releases its shards', async () => {
    // The homeserver fails: a sign-out's message stays unacknowledged with the replica that owns the user's shard.
    let user!: { localpart: string; deviceId: string; accessToken: string };
    expect(await login('held', undefined, (u) => (user = u))).toEqual([]);
    // The account's provisioning (provision_user, then its own device sync) must be delivered first:
    // wait on the outbox, not on the streams, whose pending lists are empty too before the relay has
    // published the row. Otherwise it is delivered after the sign-out with a second device sync.
    const store = await CausewayDb.open(db);
    try {
      await waitUntil(async () => (await store.undelivered()) === 0, 20_000, 'the provisioning to be delivered');
    } finally {
      await store.close();
    }
    await waitUntil(async () => Object.values(await pendingByConsumer()).every((n) => n === 0), 20_000, 'every stream message to be acknowledged');
    hs.setFault({ kind: 'error', status: 500 }, /^\/_synapse\/mas\/sync_devices/);
    const mark = lastCall();
    await signOut(proxy.url, user.accessToken);
    let holder = '';
    await waitUntil(
      async () => {
        holder = Object.entries(await pendingByConsumer()).find(([, n]) => n > 0)?.[0] ?? '';
        return holder !== '';
      },
      20_000,
      'a replica to hold the sign-out message',
    );
    const [name, replica] = Object.entries(replicas).find(([, r]) => consumerOf(r) === holder)!;
    // The message it holds: its stream and id.
    let held: { stream: string; id: string } | undefined;
    for (let n = 0; n < SHARDS && !held; n++) {
      const stream = `${prefix}events:${n}`;
      const entries = (await redis.xpending(stream, 'causeway', '-', '+', 10, holder)) as [string, string, number, number][];
      if (entries.length) held = { stream, id: entries[0]![0] };
    }
    expect(held).toBeDefined();
    const other = Object.values(replicas).find((r) => r !== replica)!;

    // Kubernetes stops the holder; the homeserver is still failing, so the message is in its hands.
    proxy.drain(inRotation[name]!);
    expect(await replica.stop()).toBe(0);
    delete replicas[name];
    expect(replica.logs.some((l) => /handing back messages failed|shutdown (failed|took too long)/.test(l))).toBe(false);
    // Handed back, not left to be claimed after claim_idle: the message was acknowledged and re-added
    // to its stream for the same user, the consumer left the group, and none of its leases remain.
    expect((await pendingByConsumer())[holder] ?? 0).toBe(0);
    const readded = (await redis.xrange(held!.stream, `(${held!.id}`, '+')) as [string, string[]][];
    expect(readded.some(([, fields]) => fields[fields.indexOf('u') + 1] === user.localpart)).toBe(true);
    const consumers = (await redis.xinfo('CONSUMERS', held!.stream, 'causeway')) as unknown[][];
    expect(consumers.map((c) => c[1])).not.toContain(holder);
    expect(await leaseOwners()).not.toContain(holder);

    // The other replica delivers it once the homeserver is back.
    hs.setFault({ kind: 'none' });
    await waitUntil(() => hs.devices(user.localpart).length === 0, 20_000, 'the other replica to deliver the sign-out');
    expect(syncCallsFor(user.localpart, mark).filter((c) => c.status === 200)).toHaveLength(1);
    expect(other.proc.exitCode).toBeNull();
  });
});
