import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePeer, type Peer } from './peers.js';

/**
 * The shared oidc-provider peer with per-test-file clients. The peer reads <state>/clients.json on
 * every lookup, so each file adds its own client (merged under a lock, written atomically) instead of
 * passing OIDC_CLIENT_ID to start.sh, which would replace every other file's client.
 */
export interface OidcPeerClient {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  jwks?: { keys: object[] };
  [k: string]: unknown;
}

async function withClientsLock<T>(stateDir: string, fn: () => T): Promise<T> {
  const lock = join(stateDir, 'clients.lock');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function updateClients(stateDir: string, update: (list: OidcPeerClient[]) => OidcPeerClient[]): Promise<void> {
  const file = join(stateDir, 'clients.json');
  return withClientsLock(stateDir, () => {
    let list: OidcPeerClient[] = [];
    try {
      list = JSON.parse(readFileSync(file, 'utf8')) as OidcPeerClient[];
    } catch {
      list = [];
    }
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(update(list), null, 2));
    renameSync(tmp, file);
  });
}

/** Adds (or replaces, by client_id) clients of the OIDC peer; starts the peer if needed. */
export async function oidcPeerWithClients(...clients: OidcPeerClient[]): Promise<Peer> {
  const peer = await ensurePeer('oidc');
  const ids = new Set(clients.map((c) => c.client_id));
  await updateClients(peer.stateDir, (list) => [...list.filter((c) => !ids.has(c.client_id)), ...clients.map((c) => ({ backchannel_logout_session_required: !!c.backchannel_logout_uri, ...c }))]);
  return peer;
}

/**
 * Removes a file's clients when it is done: the peer then stops sending back-channel logout tokens
 * to their (closed) endpoints when another file logs the same user out.
 */
export async function removeOidcPeerClients(peer: Peer, ...clientIds: string[]): Promise<void> {
  const ids = new Set(clientIds);
  await updateClients(peer.stateDir, (list) => list.filter((c) => !ids.has(c.client_id)));
}

/** The back-channel logout errors of the given clients only (the peer is shared by every test file). */
export function errorsFor(out: { errors: unknown[] }, clientId: string): unknown[] {
  return out.errors.filter((e) => (e as { client?: string }).client === clientId);
}

/**
 * Ends every session of a user at the peer, which sends back-channel logout tokens to every client
 * the user signed in to (from any test file: check only your own client's outcome).
 */
export async function peerAdminLogout(peer: Peer, sub: string): Promise<{ sub: string; sessions: number; notified: string[]; errors: unknown[] }> {
  const res = await fetch(`${peer.url}/admin/logout`, { method: 'POST', body: new URLSearchParams({ sub }) });
  return (await res.json()) as { sub: string; sessions: number; notified: string[]; errors: unknown[] };
}

/**
 * The peer has two users (alice, bob) shared by every test file, and an admin logout ends ALL of a
 * user's sessions and revokes their codes and tokens — including a sign-in another file is in the
 * middle of. Flows that sign a peer user in (through to the code exchange) and admin logouts hold
 * this per-user lock, shared across Jest workers. A lock left by a crashed worker expires after 60 s.
 */
export async function withPeerUser<T>(peer: Peer, sub: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(peer.stateDir, `user-${sub}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface OidcPeerUser {
  password: string;
  claims: Record<string, unknown>;
}

/**
 * Adds or changes a user of the peer (its claims, e.g. groups) in <state>/users.json, which the
 * peer reads on every lookup. Use a username of your own: alice and bob are shared by every file.
 */
export async function setOidcPeerUser(peer: Peer, username: string, user: OidcPeerUser | undefined): Promise<void> {
  const file = join(peer.stateDir, 'users.json');
  await withClientsLock(peer.stateDir, () => {
    let users: Record<string, OidcPeerUser> = {};
    try {
      users = JSON.parse(readFileSync(file, 'utf8')) as Record<string, OidcPeerUser>;
    } catch {
      users = {};
    }
    if (user) users[username] = user;
    else delete users[username];
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(users, null, 2));
    renameSync(tmp, file);
  });
}
