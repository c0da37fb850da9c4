import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
import { freshDatabase, type DbKind, type TestDatabase } from './databases.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = join(ROOT, 'dist/main.js');

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | T[K] : T[K] };

export interface CausewayOptions {
  db?: DbKind;
  /** Reuse a database (e.g. a second replica, or a restart). */
  database?: TestDatabase;
  /** Config merged over the test defaults (dev mode, dev sign-in, homeserver at `homeserverUrl`). */
  config?: Record<string, unknown>;
  /** The whole config instead of the test defaults (e.g. a shipped example); `config` still merges over it. */
  baseConfig?: (port: number, db: TestDatabase) => Record<string, unknown>;
  port?: number;
  /** Work dir (config, SQLite file, dev keys); a fresh temp dir by default. */
  dir?: string;
  env?: Record<string, string>;
}

export interface CausewayProcess {
  url: string;
  issuer: string;
  port: number;
  dir: string;
  database: TestDatabase;
  config: Record<string, unknown>;
  proc: ChildProcess;
  logs: string[];
  /** SIGTERM and wait for exit (graceful). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Stop and remove the work dir and database. */
  dispose(): Promise<void>;
  exited: Promise<number | null>;
}

export const SHARED_SECRET = 'test-shared-secret-0123456789abcdef';

/** The config every test starts from: dev mode, dev sign-in, a homeserver stand-in at `matrix.endpoint`. */
export function baseConfig(port: number, db: TestDatabase): Record<string, unknown> {
  return {
    dev_mode: true,
    http: { public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` },
    database: { url: db.url, ...(db.schema ? { schema: db.schema } : {}) },
    secrets: { encryption_key: 'test-encryption-key-0123456789abcdefghijkl' },
    matrix: { homeserver: 'example.test', endpoint: 'http://127.0.0.1:9/', secret: SHARED_SECRET },
    policy: { allow_insecure_uris: true },
    logging: { level: 'debug' },
    upstream: { providers: [{ id: 'dev', kind: 'dev', name: 'Development sign-in' }] },
  };
}

function merge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
    return out;
  }
  return b;
}

/**
 * Writes a config and runs `causeway serve` as a child process; resolves once /health/ready answers 200.
 * A port picked here can be taken before the server binds it (by another worker, or as the local port
 * of an outgoing connection: both come from the ephemeral range): then it starts again on another.
 */
export async function startCauseway(opts: CausewayOptions = {}): Promise<CausewayProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'causeway-test-'));
  const database = opts.database ?? (await freshDatabase(opts.db ?? 'sqlite', dir));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ ...opts, dir, database }, opts.port ?? (await freePort()), opts);
    } catch (e) {
      if (opts.port !== undefined || attempt >= 3 || !(e instanceof PortTakenError)) throw e;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(opts: CausewayOptions & { dir: string; database: TestDatabase }, port: number, caller: CausewayOptions): Promise<CausewayProcess> {
  const { dir, database } = opts;
  const config = merge((opts.baseConfig ?? baseConfig)(port, database), opts.config) as Record<string, unknown>;
  const configPath = join(dir, `gateway-${port}.yaml`);
  writeFileSync(configPath, stringify(config));

  const proc = spawn(process.execPath, [...testOnlyNodeArgs(opts.env), MAIN, 'serve', '--config', configPath], {
    cwd: dir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  // Whole lines only: a JSON log line may arrive split across chunks.
  const collector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      logs.push(...parts.filter(Boolean));
    };
  };
  proc.stdout!.on('data', collector());
  proc.stderr!.on('data', collector());
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded CI machine start-up (migrations included) can take far longer than usual.
  const deadline = Date.now() + 120_000;
  let ready = false;
  while (Date.now() < deadline && proc.exitCode === null) {
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) {
        ready = true;
        break;
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) {
    proc.kill('SIGKILL');
    if (logs.some((l) => l.includes('EADDRINUSE'))) throw new PortTakenError(`port ${port} was taken before causeway could listen on it`);
    throw new Error(`causeway did not become ready (exit ${proc.exitCode} ${proc.signalCode}):\n${logs.slice(-30).join('\n')}`);
  }

  const handle: CausewayProcess = {
    url,
    issuer: `${url}/`,
    port,
    dir,
    database,
    config,
    proc,
    logs,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    async dispose() {
      await handle.stop();
      if (!caller.database) await database.drop();
      if (!caller.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** The crash points of a fault test live in a module of the tests (never in the build): preloaded when CAUSEWAY_FAULT is set. */
const FAULT_INJECTION = join(ROOT, 'test/support/fault-injection.mjs');
function testOnlyNodeArgs(env: Record<string, string> | undefined): string[] {
  return env?.CAUSEWAY_FAULT ? ['--import', FAULT_INJECTION] : [];
}

/** Runs the CLI once (config check, migrate) and returns its exit code and output. */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...testOnlyNodeArgs(opts.env), MAIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
