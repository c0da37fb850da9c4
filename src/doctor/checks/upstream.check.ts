import { readFile } from 'node:fs/promises';
import type { GatewayConfig } from '../../config/config.schema.js';
import type { CasProviderConfig } from '../../upstream/cas/cas.config.js';
import type { OidcProviderConfig } from '../../upstream/oidc/oidc.config.js';
import { isTemplateIssuer } from '../../upstream/oidc/multi-tenant.js';
import type { OAuth2ProviderConfig } from '../../upstream/oauth2/oauth2.config.js';
import type { ProviderConfig } from '../../upstream/providers.schema.js';
import { MetadataError, parseIdpMetadata } from '../../upstream/saml/idp-metadata.js';
import { parseCertificate } from '../../upstream/saml/saml-certs.js';
import type { SamlProviderConfig } from '../../upstream/saml/saml.config.js';
import { decodeChunks, readAggregate } from '../../upstream/saml/federation/aggregate-reader.js';
import { FederationIndex } from '../../upstream/saml/federation/federation-index.js';
import { fail, pass, type Check, type CheckResult } from '../doctor.js';
import { expiryProblem, probe, reasonOf, tlsCertificateExpiry, type Probe } from '../probe.js';
import type { ClockReadings } from './clock.check.js';

const UNREACHABLE_HINT = 'check the URL and that this host reaches the IdP (DNS, firewall, outbound proxy)';

/** Each upstream IdP: its discovery, metadata or CAS endpoint answers, and its certificates are not expiring within 30 days. */
export function upstreamChecks(config: GatewayConfig<ProviderConfig>, clock: ClockReadings): Check[] {
  return config.upstream.providers.map((p) => async () => {
    const label = `upstream ${p.id} (${p.kind})`;
    try {
      return await checkProvider(p, label, clock);
    } catch (e) {
      return [fail(label, `unreachable (${reasonOf(e)})`, UNREACHABLE_HINT)];
    }
  });
}

function checkProvider(p: ProviderConfig, label: string, clock: ClockReadings): Promise<CheckResult[]> {
  switch (p.kind) {
    case 'oidc':
      return oidc(p, label, clock);
    case 'saml':
      return saml(p, label, clock);
    case 'cas':
      return cas(p, label, clock);
    case 'oauth2':
      return oauth2(p, label, clock);
    case 'dev':
      return Promise.resolve([pass(label, 'the dev sign-in form (dev_mode)')]);
    default:
      // A kind added without a check of its own here: configured, nothing probed.
      return Promise.resolve([pass(label, 'configured (no reachability check for this kind)')]);
  }
}

/**
 * Asks an IdP URL and records its clock: the answer, or the ✖ when it cannot be reached. Any HTTP
 * status is an answer; the caller judges it.
 */
async function ask(p: ProviderConfig, url: string, label: string, clock: ClockReadings, init?: RequestInit): Promise<Probe | CheckResult> {
  try {
    const r = await probe(url, init);
    clock.push({ peer: `IdP ${p.id}`, skewMs: r.skewMs });
    return r;
  } catch (e) {
    return fail(label, `${url} unreachable (${reasonOf(e)})`, UNREACHABLE_HINT);
  }
}
const unreachable = (r: Probe | CheckResult): r is CheckResult => 'ok' in r;

/** The TLS certificate of an https URL, as a ✖ when it expires within 30 days. */
async function tlsProblem(url: string, label: string): Promise<CheckResult | undefined> {
  const notAfter = await tlsCertificateExpiry(url);
  const problem = notAfter && expiryProblem(notAfter);
  return problem ? fail(label, `the TLS certificate of ${new URL(url).host} ${problem}`, 'the IdP must renew its TLS certificate') : undefined;
}

async function oidc(p: OidcProviderConfig, label: string, clock: ClockReadings): Promise<CheckResult[]> {
  const tls = await tlsProblem(p.issuer, label);
  if (tls) return [tls];
  if (!p.discovery) {
    const r = await ask(p, p.token_endpoint!, label, clock, { method: 'POST' });
    return [unreachable(r) ? r : pass(label, `token endpoint answers (${r.status}); discovery off`)];
  }
  const url = new URL('.well-known/openid-configuration', p.issuer.endsWith('/') ? p.issuer : `${p.issuer}/`).href;
  const r = await ask(p, url, label, clock);
  if (unreachable(r)) return [r];
  if (r.status !== 200) return [fail(label, `discovery answered ${r.status} at ${url}`, 'check issuer: its /.well-known/openid-configuration must answer')];
  let doc: { issuer?: unknown; jwks_uri?: unknown };
  try {
    doc = JSON.parse(r.body) as typeof doc;
  } catch {
    return [fail(label, `discovery at ${url} is not JSON`, 'check issuer')];
  }
  if (p.multi_tenant) {
    if (typeof doc.issuer !== 'string' || !isTemplateIssuer(p.multi_tenant.issuer_template, doc.issuer)) {
      return [
        fail(
          label,
          `the discovery document names issuer ${String(doc.issuer)}, not multi_tenant.issuer_template with {tenantid}`,
          'set multi_tenant.issuer_template as the IdP spells its issuer, {tid} for its {tenantid}',
        ),
      ];
    }
  } else if (doc.issuer !== p.issuer) return [fail(label, `the discovery document names issuer ${String(doc.issuer)}`, 'set issuer exactly as the IdP spells it (trailing slash included)')];
  const jwksUri = p.jwks_uri ?? (typeof doc.jwks_uri === 'string' ? doc.jwks_uri : undefined);
  if (!jwksUri) return [fail(label, 'the discovery document has no jwks_uri', 'give jwks_uri in the provider config')];
  try {
    const jwks = await probe(jwksUri);
    if (jwks.status !== 200) return [fail(label, `its JWKS answered ${jwks.status} (${jwksUri})`, "ID tokens cannot be verified without the IdP's keys")];
  } catch (e) {
    return [fail(label, `its JWKS is unreachable (${reasonOf(e)}, ${jwksUri})`, UNREACHABLE_HINT)];
  }
  return [pass(label, `discovery and JWKS answer at ${p.issuer}`)];
}

async function saml(p: SamlProviderConfig, label: string, clock: ClockReadings): Promise<CheckResult[]> {
  if (p.federation) return federation(p, p.federation, label, clock);
  let certs: string[];
  let source: string;
  if (p.idp) {
    certs = p.idp.certs;
    source = 'inline';
  } else {
    let xml: string;
    if (p.metadata_url) {
      const tls = await tlsProblem(p.metadata_url, label);
      if (tls) return [tls];
      const r = await ask(p, p.metadata_url, label, clock, { redirect: 'follow' });
      if (unreachable(r)) return [r];
      if (r.status !== 200) return [fail(label, `metadata answered ${r.status} (${p.metadata_url})`, 'check metadata_url')];
      xml = r.body;
      source = `from ${p.metadata_url}`;
    } else {
      xml = await readFile(p.metadata_file!, 'utf8');
      source = `from ${p.metadata_file}`;
    }
    try {
      certs = parseIdpMetadata(xml, { entityId: p.idp_entity_id, signingCert: p.metadata_signing_cert, now: Date.now() }).signingCerts;
    } catch (e) {
      if (!(e instanceof MetadataError)) throw e;
      return [fail(label, `metadata ${source} refused: ${e.message}`, 'check the metadata source (and metadata_signing_cert, idp_entity_id)')];
    }
  }
  const problems: CheckResult[] = [];
  let earliest: Date | undefined;
  for (const pem of certs) {
    const c = parseCertificate(pem);
    const notAfter = new Date(c.notAfter);
    if (!earliest || notAfter < earliest) earliest = notAfter;
    const problem = expiryProblem(notAfter);
    if (problem) {
      problems.push(
        fail(
          label,
          `IdP signing certificate ${c.fingerprint256.slice(0, 14)}… ${problem}`,
          'the IdP must roll its signing key over (both certificates in its metadata during the change); responses signed with an expired certificate are refused',
        ),
      );
    }
  }
  const sp = parseCertificate(p.sp.cert);
  const spProblem = expiryProblem(new Date(sp.notAfter));
  if (spProblem) problems.push(fail(label, `SP certificate (sp.cert) ${spProblem}`, 'make a new SP key and certificate, publish them in the SP metadata and send it to the IdP'));
  if (problems.length) return problems;
  return [pass(label, `metadata ${source} valid; ${certs.length} signing certificate(s) valid until ${earliest?.toISOString().slice(0, 10) ?? '?'}`)];
}

/**
 * A federation provider: the aggregate answers, its signature and validUntil hold, how many IdPs
 * it offers after entity_filter, how long it stays valid, and how many IdPs sign with certificates
 * only that have expired (their sign-ins fail until the federation publishes new keys).
 */
async function federation(p: SamlProviderConfig, f: NonNullable<SamlProviderConfig['federation']>, label: string, clock: ClockReadings): Promise<CheckResult[]> {
  let bytes: Buffer;
  let source: string;
  if (f.metadata_url) {
    const tls = await tlsProblem(f.metadata_url, label);
    if (tls) return [tls];
    const r = await ask(p, f.metadata_url, label, clock, { redirect: 'follow' });
    if (unreachable(r)) return [r];
    if (r.status !== 200) return [fail(label, `federation metadata answered ${r.status} (${f.metadata_url})`, 'check federation.metadata_url')];
    bytes = Buffer.from(r.body);
    source = `from ${f.metadata_url}`;
  } else {
    bytes = await readFile(f.metadata_file!);
    source = `from ${f.metadata_file}`;
  }
  const now = Date.now();
  let data;
  try {
    data = readAggregate(decodeChunks(bytes), { signingCert: f.signing_cert, now, requireValidUntil: f.require_valid_until });
  } catch (e) {
    if (!(e instanceof MetadataError)) throw e;
    return [fail(label, `federation aggregate ${source} refused: ${e.message}`, 'check federation.metadata_url/metadata_file and federation.signing_cert')];
  }
  const index = new FederationIndex(data, f.entity_filter);
  let expiredIdps = 0;
  for (const e of index.entities) {
    const valid = e.signingCerts.some((c) => {
      try {
        return new Date(parseCertificate(c).notAfter).getTime() > now;
      } catch {
        return false;
      }
    });
    if (!valid) expiredIdps++;
  }
  const problems: CheckResult[] = [];
  if (index.size === 0) problems.push(fail(label, `federation aggregate ${source}: no IdP left after entity_filter (${data.entities.length} in the aggregate)`, 'check federation.entity_filter'));
  const hoursLeft = data.validUntil !== undefined ? (data.validUntil - now) / 3_600_000 : undefined;
  if (hoursLeft !== undefined && hoursLeft < 24)
    problems.push(fail(label, `federation aggregate ${source} expires in ${hoursLeft.toFixed(1)} h (validUntil)`, 'the federation publishes a fresh aggregate regularly: check that refreshes reach it'));
  const sp = parseCertificate(p.sp.cert);
  const spProblem = expiryProblem(new Date(sp.notAfter));
  if (spProblem) problems.push(fail(label, `SP certificate (sp.cert) ${spProblem}`, 'make a new SP key and certificate, publish them in the SP metadata and register it with the federation'));
  if (problems.length) return problems;
  const until = data.validUntil !== undefined ? `, valid until ${new Date(data.validUntil).toISOString()}` : '';
  const expired = expiredIdps ? `; ${expiredIdps} of them sign only with expired certificates` : '';
  return [pass(label, `federation aggregate ${source} signed and valid: ${index.size} IdPs offered (${data.entities.length} in the aggregate, ${(bytes.length / 2 ** 20).toFixed(1)} MiB)${until}${expired}`)];
}

/** An OAuth 2.0 provider has no discovery: its token endpoint must answer (any status: a POST without a grant is refused). */
async function oauth2(p: OAuth2ProviderConfig, label: string, clock: ClockReadings): Promise<CheckResult[]> {
  const tls = (await tlsProblem(p.token_endpoint, label)) ?? (await tlsProblem(p.userinfo.url, label));
  if (tls) return [tls];
  let r;
  try {
    r = await probe(p.token_endpoint, { method: 'POST' });
  } catch (e) {
    return [fail(label, `${p.token_endpoint} unreachable (${reasonOf(e)})`, UNREACHABLE_HINT)];
  }
  clock.push({ peer: `IdP ${p.id}`, skewMs: r.skewMs });
  if (r.status >= 500) return [fail(label, `the token endpoint answered ${r.status}`, 'check token_endpoint')];
  return [pass(label, `token endpoint answers (${r.status})`)];
}

async function cas(p: CasProviderConfig, label: string, clock: ClockReadings): Promise<CheckResult[]> {
  const tls = await tlsProblem(p.server_url, label);
  if (tls) return [tls];
  const url = `${p.server_url}/login`;
  const r = await ask(p, url, label, clock);
  if (unreachable(r)) return [r];
  if (r.status >= 400) return [fail(label, `${url} answered ${r.status}`, 'check server_url (the CAS base URL, without /login)')];
  return [pass(label, `${url} answers (${r.status})`)];
}
