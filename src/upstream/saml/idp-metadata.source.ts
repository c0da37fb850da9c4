import { readFile } from 'node:fs/promises';
import { upstreamCall } from '../../telemetry/outbound-calls.js';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../../storage/kv-store.js';
import type { ConnectorHealth } from '../connector.js';
import type { SamlProviderConfig } from './saml.config.js';
import { MetadataError, inlineIdp, parseIdpMetadata, type IdpDescriptor } from './idp-metadata.js';
import { BodyTooLargeError, readBodyBounded } from '../bounded-body.js';

/** Largest metadata document fetched (federation aggregates are big; per-entity metadata is a few KB). */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;
/** The last good metadata is kept in the shared store this long, so a restart during an IdP outage still works. */
const CACHE_TTL_SECONDS = 30 * 24 * 3600;
/** After a failed refresh, try again sooner than the normal schedule. */
const RETRY_AFTER_FAILURE_SECONDS = 60;

export interface MetadataSourceDeps {
  kv: KeyValueStore;
  logger: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * The IdP descriptor of one SAML provider, kept current: inline config, a file re-read on the
 * refresh schedule, or a URL fetched at start-up and on the schedule. A refresh that fails (IdP
 * unreachable, broken or expired document, unsigned while a signing certificate is pinned) keeps
 * the last good copy and makes the provider `degraded` on /health/ready, never `down`: one IdP's
 * outage must not take the gateway out of the load balancer.
 */
export class IdpMetadataSource {
  private current?: IdpDescriptor;
  private loadedAt?: number;
  private lastError?: string;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly cfg: SamlProviderConfig,
    private readonly deps: MetadataSourceDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.fetchImpl = deps.fetch ?? fetch;
    if (cfg.idp) {
      this.current = inlineIdp(cfg.idp);
      this.loadedAt = this.now();
    }
  }

  private get cacheKey() {
    return `saml:metadata:${this.cfg.id}`;
  }
  private get log() {
    return this.deps.logger.child({ component: 'saml-metadata', provider: this.cfg.id });
  }

  /** First load (awaited at start-up), then the refresh schedule. */
  async start(): Promise<void> {
    if (this.cfg.idp) return;
    const ok = await this.refresh();
    if (!ok && !this.current) await this.loadCached();
    if (!this.current && this.cfg.metadata_file) {
      // A file is the operator's own: a broken one is a configuration error, as at `config check`.
      throw new MetadataError(`provider ${this.cfg.id}: ${this.lastError}`);
    }
    this.schedule(ok ? this.cfg.metadata_refresh : Math.min(this.cfg.metadata_refresh, RETRY_AFTER_FAILURE_SECONDS));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The IdP as last loaded, unless its metadata has expired (validUntil). */
  descriptor(): IdpDescriptor | undefined {
    const d = this.current;
    if (d?.validUntil !== undefined && d.validUntil <= this.now()) return undefined;
    return d;
  }

  /** Seconds since the metadata in use was loaded (undefined: none yet, or inline in the config, which never ages). */
  ageSeconds(): number | undefined {
    if (this.cfg.idp || this.loadedAt === undefined) return undefined;
    return (this.now() - this.loadedAt) / 1000;
  }

  health(): ConnectorHealth {
    if (!this.current) return { status: 'degraded', detail: `no IdP metadata yet: sign-in with this provider is unavailable (${this.lastError ?? 'loading'})` };
    if (!this.descriptor()) return { status: 'degraded', detail: `IdP metadata expired and could not be refreshed (${this.lastError ?? 'no error recorded'})` };
    if (this.lastError) return { status: 'degraded', detail: `refresh failed, using metadata loaded at ${new Date(this.loadedAt!).toISOString()}: ${this.lastError}` };
    return { status: 'up' };
  }

  /** Loads the metadata once; true on success. Never throws. */
  async refresh(): Promise<boolean> {
    if (this.cfg.idp) return true;
    try {
      const url = this.cfg.metadata_url;
      const xml = url ? await upstreamCall(this.cfg.id, 'saml_metadata', () => this.download(url)) : await readFile(this.cfg.metadata_file!, 'utf8');
      const descriptor = this.parse(xml);
      this.accept(descriptor);
      if (this.cfg.metadata_url) await this.deps.kv.set(this.cacheKey, JSON.stringify({ xml, at: this.now() }), CACHE_TTL_SECONDS).catch(() => undefined);
      return true;
    } catch (e) {
      this.lastError = e instanceof MetadataError ? e.message : `cannot load metadata: ${(e as Error).message}`;
      this.log.warn({ err: this.lastError, keeping: this.current ? this.current.fingerprints : null }, 'SAML metadata refresh failed; keeping the last good copy');
      return false;
    }
  }

  private parse(xml: string): IdpDescriptor {
    return parseIdpMetadata(xml, { entityId: this.cfg.idp_entity_id, signingCert: this.cfg.metadata_signing_cert, now: this.now() });
  }

  private accept(d: IdpDescriptor) {
    const before = this.current;
    if (before && before.fingerprints.join() !== d.fingerprints.join()) {
      this.log.info({ before: before.fingerprints, after: d.fingerprints }, 'IdP signing certificates changed');
    }
    if (before && before.entityId !== d.entityId) this.log.warn({ before: before.entityId, after: d.entityId }, 'IdP entity ID changed');
    this.current = d;
    this.loadedAt = this.now();
    this.lastError = undefined;
  }

  /** The copy a previous run (or another replica) stored, checked again like a fresh download. */
  private async loadCached() {
    try {
      const cached = await this.deps.kv.get(this.cacheKey);
      if (!cached) return;
      const { xml, at } = JSON.parse(cached) as { xml: string; at: number };
      this.current = this.parse(xml);
      this.loadedAt = at;
      this.log.warn({ loadedAt: new Date(at).toISOString() }, 'IdP unreachable at start-up; using the metadata stored from an earlier run');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'stored SAML metadata unusable');
    }
  }

  private async download(url: string): Promise<string> {
    const res = await this.fetchImpl(url, {
      signal: AbortSignal.timeout(this.cfg.metadata_timeout_ms),
      redirect: 'follow',
      headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
    // A redirect must not downgrade the transport that vouches for unsigned metadata.
    if (res.url && new URL(res.url).protocol !== 'https:' && !this.cfg.allow_insecure_http) throw new Error(`redirected to a non-https URL (${res.url})`);
    if (!res.body) throw new Error('empty response');
    try {
      return (await readBodyBounded(res, MAX_METADATA_BYTES)).toString('utf8');
    } catch (e) {
      throw e instanceof BodyTooLargeError ? new Error('metadata too large') : e;
    }
  }

  private schedule(seconds: number) {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      const ok = await this.refresh();
      this.schedule(ok ? this.cfg.metadata_refresh : Math.min(this.cfg.metadata_refresh, RETRY_AFTER_FAILURE_SECONDS));
    }, seconds * 1000);
    this.timer.unref();
  }
}
