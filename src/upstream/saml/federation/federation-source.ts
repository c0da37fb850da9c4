import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../../../storage/kv-store.js';
import type { ComponentStatus } from '../../../health/health.registry.js';
import { upstreamCall } from '../../../telemetry/outbound-calls.js';
import { MetadataError, parseIdpMetadata, type IdpDescriptor } from '../idp-metadata.js';
import { sha256Hex } from './aggregate-reader.js';
import { parseAggregateInWorker, type AggregateParser, type ParsedAggregate } from './aggregate-parser.js';
import { FederationIndex } from './federation-index.js';
import type { SamlProviderConfig } from '../saml.config.js';
import { BodyTooLargeError, readBodyBounded } from '../../bounded-body.js';

/** A provider's `federation` section as the config loader leaves it (certificate resolved). */
export type FederationSettings = NonNullable<SamlProviderConfig['federation']>;

/** The last good aggregate is kept in the shared store this long, so a restart during an outage still works. */
const CACHE_TTL_SECONDS = 30 * 24 * 3600;
/** After a failed refresh, try again sooner than the normal schedule. */
const RETRY_AFTER_FAILURE_SECONDS = 60;
/** Entities looked up over MDQ are kept this long at most (their own validUntil may end it sooner). */
const MDQ_CACHE_SECONDS = 3600;

export interface FederationSourceDeps {
  kv: KeyValueStore;
  logger: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  /** How the aggregate is read (default: a worker thread with the configured limits). */
  parse?: AggregateParser;
  /** Told of every refresh (the lifecycle counts failures in a metric). */
  onRefresh?: (outcome: { ok: boolean; parsed?: ParsedAggregate; error?: string }) => void;
  allowInsecureHttp?: boolean;
}

/**
 * The IdPs of one federation provider, kept current: the signed aggregate is fetched (or read)
 * at start-up and then in the background every `refresh_interval`, read in a worker thread, and
 * swapped in only when its signature, validUntil and structure are good. Until then, and whenever
 * a refresh fails or is refused (tampered, expired, unreachable, too big, too slow), the last good
 * index keeps serving sign-ins; health shows the age, the count and the last error.
 */
export class FederationSource {
  private index?: FederationIndex;
  private loadedAt?: number;
  private lastError?: string;
  private lastErrorAt?: number;
  private digest?: string;
  private refreshing?: Promise<boolean>;
  private initial?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly parse: AggregateParser;
  private readonly mdq = new Map<string, { d: IdpDescriptor; until: number }>();

  constructor(
    private readonly providerId: string,
    private readonly cfg: FederationSettings,
    private readonly deps: FederationSourceDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.fetchImpl = deps.fetch ?? fetch;
    this.parse = deps.parse ?? parseAggregateInWorker;
  }

  private get cacheKey() {
    return `saml:federation:${this.providerId}`;
  }
  private get log() {
    return this.deps.logger.child({ component: 'saml-federation', provider: this.providerId });
  }

  /**
   * Starts the first load in the background (a 50 MB aggregate takes seconds: the server does not
   * wait for it; until it is in, health says `loading` and the discovery page asks to try again),
   * falling back to the stored copy if the federation is unreachable, then the schedule.
   */
  start(): Promise<void> {
    this.initial ??= (async () => {
      const ok = await this.refresh();
      if (!ok && !this.index) await this.loadCached();
      this.schedule(ok ? this.cfg.refresh_interval : Math.min(this.cfg.refresh_interval, RETRY_AFTER_FAILURE_SECONDS));
    })();
    return Promise.resolve();
  }

  /** Resolves when the first load (started by start()) has ended, well or not. */
  whenStarted(): Promise<void> {
    return this.initial ?? Promise.resolve();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The IdPs as last loaded (undefined before the first good load or once the aggregate's validUntil has passed). */
  current(): FederationIndex | undefined {
    const i = this.index;
    if (i?.data.validUntil !== undefined && i.data.validUntil <= this.now()) return undefined;
    return i;
  }

  /** Seconds since the aggregate in use was loaded. */
  ageSeconds(): number | undefined {
    return this.loadedAt === undefined ? undefined : (this.now() - this.loadedAt) / 1000;
  }

  entityCount(): number {
    return this.index?.size ?? 0;
  }

  health(): { status: ComponentStatus; detail?: string } {
    const age = this.ageSeconds();
    const facts = this.index ? `${this.index.size} IdPs, aggregate loaded ${Math.round(age ?? 0)} s ago (${new Date(this.loadedAt!).toISOString()})` : 'no aggregate yet';
    if (!this.index) return { status: 'degraded', detail: `${facts}: sign-in with this federation is unavailable (${this.lastError ?? 'loading'})` };
    if (!this.current()) return { status: 'degraded', detail: `${facts}: the aggregate expired and could not be refreshed (${this.lastError ?? 'no error recorded'})` };
    if (this.lastError) return { status: 'degraded', detail: `${facts}; last refresh failed at ${new Date(this.lastErrorAt!).toISOString()}, keeping the last good copy: ${this.lastError}` };
    return { status: 'up', detail: facts };
  }

  /** The last refresh error, if the last refresh failed. */
  error(): string | undefined {
    return this.lastError;
  }

  /** Loads the aggregate once; true on success. Never throws; concurrent calls share one load. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<boolean> {
    try {
      const url = this.cfg.metadata_url;
      const bytes = url ? await upstreamCall(this.providerId, 'saml_metadata', () => this.download(url)) : new Uint8Array(await readFile(this.cfg.metadata_file!));
      if (bytes.length > this.cfg.max_size_mb * 2 ** 20) throw new MetadataError('the aggregate is larger than max_size_mb');
      const digest = sha256Hex(bytes);
      if (digest === this.digest && this.index) {
        // The same bytes as the copy in use: nothing to read again (its validUntil still applies).
        this.lastError = undefined;
        this.deps.onRefresh?.({ ok: true });
        return true;
      }
      const parsed = await this.read(bytes);
      this.accept(parsed, digest);
      if (url) await this.deps.kv.set(this.cacheKey, JSON.stringify({ xml: Buffer.from(bytes).toString('base64'), at: this.now() }), CACHE_TTL_SECONDS).catch(() => undefined);
      this.deps.onRefresh?.({ ok: true, parsed });
      return true;
    } catch (e) {
      this.lastError = e instanceof MetadataError ? e.message : `cannot load the aggregate: ${(e as Error).message}`;
      this.lastErrorAt = this.now();
      this.log.warn(
        { err: this.lastError, keeping: this.index ? { entities: this.index.size, loadedAt: new Date(this.loadedAt!).toISOString(), sha256: this.digest } : null },
        'SAML federation refresh failed; keeping the last good copy',
      );
      this.deps.onRefresh?.({ ok: false, error: this.lastError });
      return false;
    }
  }

  private read(bytes: Uint8Array): Promise<ParsedAggregate> {
    return this.parse(bytes, { signingCert: this.cfg.signing_cert, now: this.now(), requireValidUntil: this.cfg.require_valid_until }, { timeoutSeconds: this.cfg.parse_timeout, memoryMb: this.cfg.parse_memory_mb });
  }

  private accept(parsed: ParsedAggregate, digest: string) {
    const index = new FederationIndex(parsed.data, this.cfg.entity_filter);
    const before = this.index;
    this.index = index;
    this.loadedAt = this.now();
    this.lastError = undefined;
    this.digest = digest;
    this.mdq.clear();
    this.log.info(
      {
        entities: index.size,
        idpsInAggregate: parsed.data.entities.length,
        skipped: parsed.data.skipped,
        before: before?.size,
        validUntil: parsed.data.validUntil ? new Date(parsed.data.validUntil).toISOString() : undefined,
        sha256: digest,
        parseMs: parsed.wallMs,
        parseCpuMs: Math.round(parsed.cpuMs),
        workerHeapMb: Math.round(parsed.heapUsedMb),
      },
      'SAML federation aggregate loaded',
    );
  }

  /** The copy a previous run (or another replica) stored, checked again like a fresh download. */
  private async loadCached() {
    try {
      const cached = await this.deps.kv.get(this.cacheKey);
      if (!cached) return;
      const { xml, at } = JSON.parse(cached) as { xml: string; at: number };
      const bytes = new Uint8Array(Buffer.from(xml, 'base64'));
      const parsed = await this.read(bytes);
      const error = this.lastError;
      this.accept(parsed, sha256Hex(bytes));
      this.loadedAt = at;
      this.lastError = error;
      this.lastErrorAt ??= this.now();
      this.log.warn({ loadedAt: new Date(at).toISOString() }, 'federation unreachable at start-up; using the aggregate stored from an earlier run');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'stored SAML federation aggregate unusable');
    }
  }

  /**
   * The IdP to sign in with: from the aggregate, else (with `mdq_url`) from the federation's MDQ
   * service, whose per-entity documents must be signed by the same certificate.
   */
  async descriptor(entityId: string): Promise<IdpDescriptor | undefined> {
    const fromAggregate = this.current()?.descriptor(entityId, this.now());
    if (fromAggregate || !this.cfg.mdq_url || !this.mdqAllowed(entityId)) return fromAggregate;
    const cached = this.mdq.get(entityId);
    if (cached && cached.until > this.now()) return cached.d;
    try {
      const base = this.cfg.mdq_url.endsWith('/') ? this.cfg.mdq_url : `${this.cfg.mdq_url}/`;
      const xml = new TextDecoder().decode(await upstreamCall(this.providerId, 'saml_metadata', () => this.download(`${base}entities/${encodeURIComponent(entityId)}`, 1 << 20)));
      const d = parseIdpMetadata(xml, { entityId, signingCert: this.cfg.signing_cert, now: this.now() });
      this.mdq.set(entityId, { d, until: Math.min(d.validUntil ?? Infinity, this.now() + MDQ_CACHE_SECONDS * 1000) });
      return d;
    } catch (e) {
      this.log.info({ entityId, err: (e as Error).message }, 'MDQ lookup failed');
      return undefined;
    }
  }

  /** MDQ answers carry no registration authority or categories this code reads: with such filters, only the aggregate counts. */
  private mdqAllowed(entityId: string): boolean {
    const f = this.cfg.entity_filter;
    if (f.exclude_entity_ids.includes(entityId)) return false;
    if (f.entity_ids.length) return f.entity_ids.includes(entityId);
    return f.registration_authorities.length === 0 && f.entity_categories.length === 0;
  }

  private async download(url: string, max = this.cfg.max_size_mb * 2 ** 20): Promise<Uint8Array> {
    const res = await this.fetchImpl(url, {
      signal: AbortSignal.timeout(this.cfg.timeout_ms),
      redirect: 'follow',
      headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
    if (res.url && new URL(res.url).protocol !== 'https:' && !this.deps.allowInsecureHttp) throw new Error(`redirected to a non-https URL (${res.url})`);
    if (!res.body) throw new Error('empty response');
    try {
      return new Uint8Array(await readBodyBounded(res, max));
    } catch (e) {
      throw e instanceof BodyTooLargeError ? new MetadataError('the aggregate is larger than max_size_mb') : e;
    }
  }

  private schedule(seconds: number) {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      const ok = await this.refresh();
      this.schedule(ok ? this.cfg.refresh_interval : Math.min(this.cfg.refresh_interval, RETRY_AFTER_FAILURE_SECONDS));
    }, seconds * 1000);
    this.timer.unref();
  }
}
