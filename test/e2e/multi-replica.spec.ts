// Any replica can carry on any request: two Causeway processes share PostgreSQL and Redis behind a
// round-robin proxy (as behind a Kubernetes Service). Tokens issued by one are known to the other,
// revocation on one is seen by the other at once (despite introspection caches), a rolling restart
// under load fails no request, and SIGTERM lets in-flight requests finish while new connections are
// refused. The login flows ride on this harness once the login module is in (see flow()).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/ports.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const ADMIN_CLIENT = { id: 'admin-tool', secret: 'admin-tool-secret-0123456789abcdef' };
const basic = `Basic ${Buffer.from(`${ADMIN_CLIENT.id}:${ADMIN_CLIENT.secret}`).toString('base64')}`;

// Several replicas need PostgreSQL (one SQLite file cannot be shared between pods).
const suite = TEST_DBS.includes('postgres') ? describe : describe.skip;

suite('two replicas on shared PostgreSQL and Redis', () => {
  let dir: string;
  let db: TestDatabase;
  let proxy: RoundRobinProxy;
  let config: Record<string, unknown>;
  const replicas: Record<string, CausewayProcess> = {};
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
    // What the Helm chart gives every pod: the same public URL, keys, secrets, database and Redis.
    const keyFile = join(dir, 'rs1.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const proxyPort = await freePort();
    config = {
      replicas: 2,
      http: { public_base: `http://127.0.0.1:${proxyPort}/` },
      redis: { url: REDIS_URL, key_prefix: prefix },
      secrets: { keys: [{ kid: 'rs1', key_file: keyFile }] },
      tokens: { introspection_cache_ttl: 60 },
      logging: { level: 'info' },
      // Not the dev sign-in: main does not have its connector yet, and no test here signs a user in.
      upstream: { providers: [{ id: 'corp', kind: 'oidc', name: 'Corp', issuer: 'http://127.0.0.1:9/', client_id: 'c', client_secret: 's', allow_insecure_http: true }] },
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
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(Object.values(replicas).map((r) => r.stop()));
    await db?.drop();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
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
      headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { active: boolean; scope?: string; client_id?: string };
  };
  const revoke = async (base: string, t: string) => {
    const res = await fetch(`${base}/oauth2/revoke`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t }),
    });
    expect(res.status).toBe(200);
  };

  it('both replicas publish the same issuer and keys', async () => {
    const [d1, d2] = await Promise.all(
      ['r1', 'r2'].map((n) => fetch(`${replicas[n]!.url}/.well-known/openid-configuration`).then((r) => r.json() as Promise<Record<string, unknown>>)),
    );
    expect(d1!.issuer).toBe(config.http && (config.http as { public_base: string }).public_base);
    expect(d2).toEqual(d1);
    const [k1, k2] = await Promise.all(['r1', 'r2'].map((n) => fetch(`${replicas[n]!.url}/oauth2/keys.json`).then((r) => r.json())));
    expect(k2).toEqual(k1);
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
      await new Promise((r) => setTimeout(r, 20));
      seen = await introspect(replicas.r1!.url, access_token);
    }
    expect(seen).toEqual({ active: false });
    expect(await introspect(replicas.r2!.url, access_token)).toEqual({ active: false });
  });

  /**
   * One client's round of requests through the proxy, each step checked. It spreads over both replicas.
   * TODO(login): when the login module is in, the rolling-restart test runs 20 logins here instead
   * (authorize → dev sign-in → consent → code → token), begun on one replica and finished on another.
   */
  async function flow(rounds: number): Promise<string[]> {
    const failures: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const res = await token(proxy.url);
      if (res.status !== 200) {
        failures.push(`token: ${res.status} ${await res.text()}`);
        continue;
      }
      const { access_token } = (await res.json()) as { access_token: string };
      if (!(await introspect(proxy.url, access_token)).active) failures.push('fresh token inactive');
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
      await revoke(proxy.url, access_token);
      if ((await introspect(proxy.url, access_token)).active) failures.push('revoked token still active');
    }
    return failures;
  }

  it('a rolling restart (replica 1 drained, stopped with SIGTERM, started again) under 20 concurrent clients fails no request', async () => {
    const before = proxy.log.length;
    const clients = Array.from({ length: 20 }, () => flow(6));
    // Kubernetes: the pod leaves the endpoints, preStop sleeps, then SIGTERM; a new pod comes up.
    await new Promise((r) => setTimeout(r, 300));
    const old = replicas.r1!;
    proxy.drain('r1');
    await new Promise((r) => setTimeout(r, 200));
    expect(await old.stop()).toBe(0);
    const restarted = await startReplica('r1', old.port);
    proxy.add('r1', restarted.url);
    const failures = (await Promise.all(clients)).flat();
    expect(failures).toEqual([]);
    const during = proxy.log.slice(before);
    expect(during.filter((e) => e.status !== 200)).toEqual([]);
    // The restart really happened under load: both replicas served, before and after it.
    const servedBy = new Set(during.map((e) => e.replica));
    expect(servedBy).toEqual(new Set(['r1', 'r2']));
    expect(during.length).toBe(20 * 6 * 4);
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
    await new Promise((r) => setTimeout(r, 200));
    r3.proc.kill('SIGTERM');
    // Stops accepting: a new connection is refused while the old one is still open.
    let refused = false;
    for (let i = 0; i < 200 && !refused; i++) {
      refused = await fetch(`${r3.url}/health/live`).then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((r) => setTimeout(r, 50));
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
});
