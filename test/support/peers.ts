import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './causeway.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/**
 * The real upstream IdPs of test/peers (copied from the project's verified peers), started on
 * demand on free ports with their state under .state/peers/<name>, shared by every test file of a
 * run and stopped by the global teardown (global-teardown.mjs). A lock directory serialises starts across Jest workers.
 */
export type PeerKind = 'oidc' | 'saml' | 'cas';
const SCRIPT_DIR: Record<PeerKind, string> = { oidc: 'oidc-idp', saml: 'saml-idp', cas: 'cas-server' };
const PORT_ENV: Record<PeerKind, string> = { oidc: 'OIDC_IDP_PORT', saml: 'SAML_IDP_PORT', cas: 'CAS_SERVER_PORT' };
const STATE_ENV: Record<PeerKind, string> = { oidc: 'OIDC_IDP_STATE', saml: 'SAML_IDP_STATE', cas: 'CAS_SERVER_STATE' };

export const PEER_STATE_ROOT = join(ROOT, '.state/peers');

export interface Peer {
  kind: PeerKind;
  /** Base URL printed by start.sh: OIDC issuer, SAML IdP base, CAS base (…/cas). */
  url: string;
  port: number;
  stateDir: string;
}

async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(PEER_STATE_ROOT, `${name}.lock`);
  mkdirSync(PEER_STATE_ROOT, { recursive: true });
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Starts the peer if this run has not yet (idempotent), and returns where it listens. */
export async function ensurePeer(kind: PeerKind, env: Record<string, string> = {}): Promise<Peer> {
  return withLock(kind, async () => {
    const stateDir = join(PEER_STATE_ROOT, kind);
    const portFile = join(stateDir, 'port');
    mkdirSync(stateDir, { recursive: true });
    const port = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : await freePort();
    writeFileSync(portFile, String(port));
    const script = join(ROOT, 'test/peers', SCRIPT_DIR[kind], 'start.sh');
    const { stdout } = await run('bash', [script], {
      env: { ...process.env, [PORT_ENV[kind]]: String(port), [STATE_ENV[kind]]: stateDir, ...env },
      timeout: 900_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const url = stdout.trim().split('\n').pop()!;
    return { kind, url, port, stateDir };
  });
}
