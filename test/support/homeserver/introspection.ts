import { isPyDict, isPyInt, parsePythonJson } from './python-json.js';

/**
 * Synapse's outbound calls to the OP: token introspection (stable `MasDelegatedAuth._introspect_token`
 * and legacy `MSC3861DelegatedAuth`) and the discovery document, plus the 2-minute response cache.
 */

/** The response body cap of Synapse's Rust HTTP client. */
export const RESPONSE_LIMIT = 1024 * 1024;
/** ResponseCache timeout of the introspection cache (1.128+). */
export const INTROSPECTION_CACHE_MS = 2 * 60 * 1000;

export interface Clock {
  now(): number;
}

/** A parsed introspection answer plus when it arrived (clock ms). `raw` is the decoded dict. */
export interface IntrospectionResult {
  raw: Record<string, unknown>;
  retrievedAtMs: number;
}

export interface IntrospectionLogEntry {
  at: number;
  mode: 'stable' | 'msc3861';
  url: string;
  /** Request headers as sent (Authorization included: tests check the auth method). */
  headers: Record<string, string>;
  body: string;
  /** HTTP status, or 'error' for a network failure. */
  status: number | 'error';
  outcome: 'ok' | 'failed';
  /** Why it failed (non-2xx, too large, not JSON, schema). */
  reason?: string;
}

/** Reads at most `limit` bytes; more is an error (as the Rust client's response_limit). */
export async function readCapped(res: Response, limit = RESPONSE_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new Error('response body exceeds the limit');
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Stable mode's pydantic `IntrospectionResponse` (strict): `active` StrictBool required;
 * `scope`, `username`, `sub`, `device_id` StrictStr | None; `expires_in` StrictInt | None; others ignored.
 * Returns a violation message, or undefined when valid.
 */
export function strictViolation(raw: Record<string, unknown>): string | undefined {
  if (!('active' in raw)) return 'active: Field required';
  if (typeof raw.active !== 'boolean') return 'active: Input should be a valid boolean';
  for (const f of ['scope', 'username', 'sub', 'device_id']) {
    if (f in raw && raw[f] !== null && typeof raw[f] !== 'string') return `${f}: Input should be a valid string`;
  }
  if ('expires_in' in raw && raw.expires_in !== null && !isPyInt(raw.expires_in)) return 'expires_in: Input should be a valid integer';
  return undefined;
}

/** Decodes an introspection body: UTF-8 JSON whose top level is an object. Throws otherwise. */
export function decodeIntrospectionBody(body: Buffer): Record<string, unknown> {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  const raw = parsePythonJson(text);
  if (!isPyDict(raw)) throw new Error('The introspection endpoint returned an invalid JSON response.');
  return raw;
}

interface CacheEntry {
  pending?: Promise<IntrospectionResult>;
  result?: IntrospectionResult;
  expiresAt?: number;
}

/**
 * `ResponseCache` as used for introspection: concurrent calls for one key share one request;
 * a successful result is kept `ttlMs` from the moment it arrived; failures are not kept.
 */
export class IntrospectionCache {
  private readonly entries = new Map<string, CacheEntry>();
  enabled = true;
  ttlMs = INTROSPECTION_CACHE_MS;

  constructor(private readonly clock: Clock) {}

  async wrap(token: string, load: () => Promise<IntrospectionResult>): Promise<IntrospectionResult> {
    const now = this.clock.now();
    const e = this.entries.get(token);
    if (e?.result && e.expiresAt! > now) return e.result;
    if (e?.pending) return e.pending;
    const pending = load();
    this.entries.set(token, { pending });
    try {
      const result = await pending;
      if (this.enabled) this.entries.set(token, { result, expiresAt: this.clock.now() + this.ttlMs });
      else this.entries.delete(token);
      return result;
    } catch (err) {
      this.entries.delete(token);
      throw err;
    }
  }

  unset(token: string): void {
    this.entries.delete(token);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Tokens with a live cached answer (tests inspect the cache). */
  size(): number {
    const now = this.clock.now();
    return [...this.entries.values()].filter((e) => e.result && e.expiresAt! > now).length;
  }
}
