import { generateToken, sha256Hex } from '../../src/crypto/token-format.js';
import { AccessTokenEntity } from '../../src/storage/entities/index.js';
import { ulid } from '../../src/storage/ulid.js';
import type { CausewayDb } from './causeway-db.js';
import type { CallRecord, HomeserverStandin } from './homeserver-standin.js';

/**
 * A population of signed-in users for the bus fault tests and the benchmark: users with sessions
 * and live access tokens (written to Causeway's database, as a login would leave them, and known to
 * the homeserver stand-in), then signed out for real through POST /oauth2/revoke.
 */
export interface WorkloadSession {
  sessionId: string;
  deviceId: string;
  accessToken: string;
}
export interface WorkloadUser {
  localpart: string;
  userId: string;
  sessions: WorkloadSession[];
  /** Device IDs in the order they were signed out. */
  signedOut: string[];
}

export async function registerPublicClient(base: string): Promise<string> {
  const res = await fetch(`${base}/oauth2/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Sign-out workload',
      client_uri: 'http://localhost:3000',
      redirect_uris: ['http://localhost:3000/cb'],
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

/** Creates `users` users with `sessionsPerUser` sessions each, in Causeway's DB and on the homeserver. */
export async function seedUsers(db: CausewayDb, hs: HomeserverStandin | undefined, clientId: string, users: number, sessionsPerUser: number, prefix = 'u'): Promise<WorkloadUser[]> {
  const out: WorkloadUser[] = [];
  for (let u = 0; u < users; u++) {
    const localpart = `${prefix}${String(u).padStart(5, '0')}`;
    const userId = await db.createUser(localpart);
    const sessions: WorkloadSession[] = [];
    const tokens: Partial<AccessTokenEntity>[] = [];
    for (let s = 0; s < sessionsPerUser; s++) {
      const deviceId = `D${u}X${s}`;
      const sessionId = await db.createSession(userId, deviceId, clientId);
      const accessToken = generateToken('access');
      tokens.push({ id: ulid(), token_hash: sha256Hex(accessToken), session_id: sessionId, created_at: Date.now(), expires_at: null, revoked_at: null, first_used_at: null });
      sessions.push({ sessionId, deviceId, accessToken });
    }
    await db.ds.manager.insert(AccessTokenEntity, tokens);
    hs?.addUser(localpart, { devices: sessions.map((s) => s.deviceId) });
    out.push({ localpart, userId, sessions, signedOut: [] });
  }
  return out;
}

/** Revokes one session's access token at Causeway: the real sign-out path. */
export async function revoke(base: string, clientId: string, token: string): Promise<void> {
  const res = await fetch(`${base}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: clientId }),
  });
  if (res.status !== 200) throw new Error(`revocation failed: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * Signs out `count` sessions per user, users in parallel (each user's sign-outs one after the other,
 * so their order is defined). `bases` spreads requests over several Causeway processes.
 */
export async function signOutAll(bases: string[], clientId: string, users: WorkloadUser[], count: number, parallelUsers = 20): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < users.length) {
      const u = users[next++]!;
      const todo = u.sessions.filter((s) => !u.signedOut.includes(s.deviceId)).slice(0, count);
      for (const [i, s] of todo.entries()) {
        await revoke(bases[(i + u.signedOut.length) % bases.length]!, clientId, s.accessToken);
        u.signedOut.push(s.deviceId);
        done++;
      }
    }
  };
  await Promise.all(Array.from({ length: parallelUsers }, worker));
  return done;
}

export interface OrderReport {
  /** Successful sync_devices calls seen by the homeserver. */
  syncCalls: number;
  /** Users whose observed device sets do not follow their sign-out history in order. */
  orderViolations: number;
  /** Signed-out devices still on the homeserver. */
  notRemoved: number;
  /** Devices of live sessions that were removed. */
  wronglyRemoved: number;
  details: string[];
}

/**
 * Checks the homeserver's view against the sign-out history. For each user, every successful
 * sync_devices call must show the devices left after some prefix of that user's sign-outs, and the
 * prefixes must never go back (a device, once removed, never reappears): removals arrived in the
 * order they happened, each once or idempotently repeated. Finally the homeserver must hold exactly
 * the devices of the sessions still alive.
 */
export function checkOrder(hs: HomeserverStandin, users: WorkloadUser[], calls: readonly CallRecord[] = hs.calls): OrderReport {
  const byUser = new Map<string, string[][]>();
  let syncCalls = 0;
  for (const c of calls) {
    if (c.path !== '/_synapse/mas/sync_devices' || c.status !== 200) continue;
    const b = c.body as { localpart: string; devices: string[] };
    syncCalls++;
    let list = byUser.get(b.localpart);
    if (!list) byUser.set(b.localpart, (list = []));
    list.push([...b.devices].sort());
  }
  const report: OrderReport = { syncCalls, orderViolations: 0, notRemoved: 0, wronglyRemoved: 0, details: [] };
  for (const u of users) {
    const all = u.sessions.map((s) => s.deviceId);
    const stateAfter = (k: number) =>
      all
        .filter((d) => !u.signedOut.slice(0, k).includes(d))
        .sort()
        .join(',');
    let k = 0;
    for (const seen of byUser.get(u.localpart) ?? []) {
      const key = seen.join(',');
      let j = k;
      while (j <= u.signedOut.length && stateAfter(j) !== key) j++;
      if (j > u.signedOut.length) {
        report.orderViolations++;
        report.details.push(`${u.localpart}: saw [${key}] after state ${k} of [${u.signedOut.join(',')}]`);
        break;
      }
      k = j;
    }
    const remaining = new Set(all.filter((d) => !u.signedOut.includes(d)));
    const onHs = new Set(hs.devices(u.localpart));
    for (const d of u.signedOut) if (onHs.has(d)) report.notRemoved++;
    for (const d of remaining) if (!onHs.has(d)) report.wronglyRemoved++;
  }
  return report;
}

/** Overlapping homeserver calls for one user (two consumers at once): pairs of calls whose time intervals intersect. */
export function overlappingCallsPerUser(calls: readonly CallRecord[]): number {
  const byUser = new Map<string, { start: number; end: number }[]>();
  for (const c of calls) {
    if (!c.path.startsWith('/_synapse/mas/') || typeof c.body !== 'object' || c.body === null) continue;
    const lp = (c.body as { localpart?: string }).localpart;
    if (!lp) continue;
    let l = byUser.get(lp);
    if (!l) byUser.set(lp, (l = []));
    l.push({ start: c.at, end: c.at + c.durationMs });
  }
  let overlaps = 0;
  for (const list of byUser.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) if (list[i]!.start < list[i - 1]!.end) overlaps++;
  }
  return overlaps;
}
