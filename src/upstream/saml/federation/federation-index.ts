import { parseCertificate } from '../saml-certs.js';
import type { IdpDescriptor } from '../idp-metadata.js';
import type { AggregateData, FederationEntity, FederationLogo } from './aggregate-reader.js';
import type { FederationConfig } from './federation.config.js';

/** REFEDS: IdPs that ask not to be listed by discovery services (still usable when named directly). */
export const HIDE_FROM_DISCOVERY = 'http://refeds.org/category/hide-from-discovery';
const ENTITY_CATEGORY = 'http://macedir.org/entity-category';
const ENTITY_CATEGORY_SUPPORT = 'http://macedir.org/entity-category-support';

export type EntityFilter = FederationConfig['entity_filter'];

/** Whether the operator's `entity_filter` lets this IdP in (every list given must match). */
export function matchesFilter(e: FederationEntity, f: EntityFilter): boolean {
  if (f.exclude_entity_ids.includes(e.entityId)) return false;
  if (f.entity_ids.length && !f.entity_ids.includes(e.entityId)) return false;
  if (f.registration_authorities.length && !(e.registrationAuthority && f.registration_authorities.includes(e.registrationAuthority))) return false;
  if (f.entity_categories.length) {
    const cats = [...(e.entityAttributes[ENTITY_CATEGORY] ?? []), ...(e.entityAttributes[ENTITY_CATEGORY_SUPPORT] ?? [])];
    if (!f.entity_categories.some((c) => cats.includes(c))) return false;
  }
  return true;
}

/** Lower case, accents removed: "Universität Zürich" is found by "universitat zurich". */
export function fold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** One IdP as the discovery page shows it. */
export interface DiscoveryItem {
  entityId: string;
  name: string;
  /** The organisation's name when it differs from the display name. */
  organization?: string;
  logo?: FederationLogo;
  domains: string[];
}

export function pick(values: Record<string, string>, lang: string): string | undefined {
  const base = lang.split('-')[0]!;
  return values[lang] ?? values[base] ?? values.en ?? values[''] ?? Object.values(values)[0];
}

function logoFor(e: FederationEntity, lang: string): FederationLogo | undefined {
  const base = lang.split('-')[0]!;
  const usable = e.logos.filter((l) => !l.lang || l.lang === lang || l.lang === base || l.lang === 'en');
  // The smallest that is still legible next to a name (favicons of 16 px are too small for some, but honest).
  return usable.sort((a, b) => (a.height ?? 999) - (b.height ?? 999))[0];
}

/**
 * The IdPs of one federation provider, as last loaded: lookup by entity ID, search for the
 * discovery page, and each IdP's descriptor for sign-in (certificates parsed on first use, so one
 * IdP's broken certificate affects only that IdP).
 */
export class FederationIndex {
  readonly entities: readonly FederationEntity[];
  private readonly byId = new Map<string, FederationEntity>();
  private readonly haystacks: string[];
  private readonly listed: boolean[];
  private readonly descriptors = new Map<string, IdpDescriptor | null>();

  constructor(
    readonly data: AggregateData,
    filter: EntityFilter,
  ) {
    this.entities = data.entities.filter((e) => matchesFilter(e, filter));
    for (const e of this.entities) if (!this.byId.has(e.entityId)) this.byId.set(e.entityId, e);
    this.haystacks = this.entities.map((e) => fold([...Object.values(e.displayNames), ...Object.values(e.organizationNames), e.entityId, ...e.scopes, ...e.domainHints].join('\n')));
    this.listed = this.entities.map((e) => !(e.entityAttributes[ENTITY_CATEGORY] ?? []).includes(HIDE_FROM_DISCOVERY));
  }

  get size(): number {
    return this.entities.length;
  }

  get(entityId: string): FederationEntity | undefined {
    return this.byId.get(entityId);
  }

  item(e: FederationEntity, lang: string): DiscoveryItem {
    const name = pick(e.displayNames, lang) ?? pick(e.organizationNames, lang) ?? e.entityId;
    const organization = pick(e.organizationNames, lang);
    const logo = logoFor(e, lang);
    return {
      entityId: e.entityId,
      name,
      ...(organization && organization !== name ? { organization } : {}),
      ...(logo ? { logo } : {}),
      domains: [...new Set([...e.domainHints, ...e.scopes])].slice(0, 3),
    };
  }

  /**
   * IdPs matching a query (every word in a name, the entity ID, a scope or domain hint; an email
   * address matches by its domain), best first: names starting with the query, then by name.
   */
  search(query: string, lang: string, page: number, pageSize: number): { total: number; items: DiscoveryItem[] } {
    const q = fold(query.trim()).slice(0, 200);
    let hits: number[] = [];
    const at = q.lastIndexOf('@');
    const domain = at >= 0 ? q.slice(at + 1) : undefined;
    for (let i = 0; i < this.entities.length; i++) {
      if (!this.listed[i]) continue;
      if (domain) {
        const e = this.entities[i]!;
        if ([...e.scopes, ...e.domainHints].some((d) => domain === d || domain.endsWith(`.${d}`))) hits.push(i);
        continue;
      }
      const words = q.split(/\s+/).filter(Boolean);
      if (words.every((w) => this.haystacks[i]!.includes(w))) hits.push(i);
    }
    const named = hits.map((i) => ({ i, name: this.item(this.entities[i]!, lang).name }));
    const collator = new Intl.Collator(lang, { sensitivity: 'base' });
    named.sort((a, b) => {
      const pa = q && fold(a.name).startsWith(q) ? 0 : 1;
      const pb = q && fold(b.name).startsWith(q) ? 0 : 1;
      return pa - pb || collator.compare(a.name, b.name);
    });
    hits = named.map((n) => n.i);
    const start = Math.max(0, (page - 1) * pageSize);
    return { total: hits.length, items: hits.slice(start, start + pageSize).map((i) => this.item(this.entities[i]!, lang)) };
  }

  /** The IdP as the SAML connector uses it; undefined when unknown, expired or its certificates do not parse. */
  descriptor(entityId: string, now: number): IdpDescriptor | undefined {
    const e = this.byId.get(entityId);
    if (!e) return undefined;
    if (e.validUntil !== undefined && e.validUntil <= now) return undefined;
    let d = this.descriptors.get(entityId);
    if (d === undefined) {
      d = toDescriptor(e);
      this.descriptors.set(entityId, d);
    }
    return d ?? undefined;
  }
}

function toDescriptor(e: FederationEntity): IdpDescriptor | null {
  try {
    const certs = e.signingCerts.map((c) => parseCertificate(c));
    return {
      entityId: e.entityId,
      sso: e.sso,
      slo: {},
      signingCerts: certs.map((c) => c.pem),
      fingerprints: certs.map((c) => c.fingerprint256),
      wantAuthnRequestsSigned: e.wantAuthnRequestsSigned,
      ...(e.validUntil !== undefined ? { validUntil: e.validUntil } : {}),
    };
  } catch {
    return null;
  }
}
