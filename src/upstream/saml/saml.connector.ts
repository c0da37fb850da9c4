import { createHash, randomBytes } from 'node:crypto';
import { SAML } from '@node-saml/node-saml';
import type { Logger } from 'pino';
import { UpstreamError, type Assertion, type BeginResult, type CallbackRequest, type ConnectorHealth, type UpstreamConnector, type UpstreamLoginContext, type UpstreamSessionRef } from '../connector.js';
import type { KeyValueStore } from '../../storage/kv-store.js';
import type { SamlProviderConfig } from './saml.config.js';
import { NAMEID_FORMATS } from './saml.config.js';
import { IdpMetadataSource } from './idp-metadata.source.js';
import { FederationSource } from './federation/federation-source.js';
import type { ComponentStatus } from '../../health/health.registry.js';
import type { IdpDescriptor } from './idp-metadata.js';
import { verifySamlResponse } from './saml-response.js';
import { attributeMap } from './saml-attributes.js';
import { spMetadataXml } from './sp-metadata.js';
import { LogoutMessageError, logoutRequestUrl, logoutResponseUrl, verifyPostLogout, verifyRedirectLogout, type InboundLogoutRequest, type SloContext } from './saml-logout.js';
import type { ConnectorDeps } from '../connector-kind.js';
// Aliased: `msg` is this file's name for an inbound logout message.
import { msg as userMsg } from '../../web/i18n/message.js';
import { upstreamUrls } from '../upstream-urls.js';

/** How long a sign-out sent to the IdP waits for its LogoutResponse. */
const PENDING_LOGOUT_SECONDS = 15 * 60;

/** What is kept in the login machine between begin() and complete(). */
export interface SamlSaved {
  requestId: string;
  issuedAt: string;
}

/** Protocol details kept with the upstream session, for SP-initiated logout. */
export interface SamlSessionDetails {
  nameId: string;
  nameIdFormat?: string;
  nameQualifier?: string;
  spNameQualifier?: string;
  sessionIndex?: string;
}

/** A federation sign-in between begin() and the choice of IdP (kept in the store under the discovery token). */
export interface DiscoverySession {
  state: string;
  requestId: string;
  ctx: { state: string; prompt: string[]; loginHint?: string };
}

/** The IdP chosen for one AuthnRequest. */
interface FederationChoice {
  entityId: string;
  issuedAt: string;
}

/** How long the discovery page and a chosen IdP stay valid. */
const DISCOVERY_SECONDS = 30 * 60;

/** What a SAML connector's lifecycle runs: single-IdP metadata or a federation's aggregate. */
export interface SamlMetadataLifecycle {
  start(): Promise<void>;
  stop(): void;
  health(): { status: ComponentStatus; detail?: string };
  ageSeconds(): number | undefined;
}

/**
 * eduPerson defaults for a federation's subject (REFEDS / SAML V2.0 Subject Identifier
 * Attributes profile): pairwise-id, subject-id, eduPersonTargetedID, eduPersonPrincipalName, then
 * a persistent NameID. With `claims.subject` configured the template decides (the NameID, or ''
 * when there is none, is only its fallback).
 */
export function federationSubject(attributes: Record<string, string | string[]>, nameId: { value: string; format?: string } | undefined, templated: boolean): string {
  for (const name of ['pairwise_id', 'subject_id', 'eduPersonTargetedID', 'eduPersonPrincipalName']) {
    const v = attributes[name];
    const first = Array.isArray(v) ? v[0] : v;
    if (first) return first;
  }
  if (nameId && nameId.format !== NAMEID_FORMATS.transient) return nameId.value;
  if (templated) return nameId?.value ?? '';
  throw new UpstreamError('config', userMsg('upstream.saml.federation.no_subject'));
}

export interface SamlConnectorDeps {
  publicBase: string;
  kv: KeyValueStore;
  metadata?: IdpMetadataSource;
  federation?: FederationSource;
  logger: Logger;
  now?: () => number;
}

/** Where an inbound Single Logout message leads. */
export type SloOutcome =
  /** IdP-initiated: sessions ended; send the browser back to the IdP with our LogoutResponse (or show a page when it has no Redirect SLO). */
  | { kind: 'request'; request: InboundLogoutRequest; responseUrl?: string; finish: (ended: boolean) => Promise<string | undefined> }
  /** SP-initiated, answered: go where the sign-out was meant to end. */
  | { kind: 'response'; returnTo: string; state: string; success: boolean; status: string };

/**
 * One upstream SAML 2.0 IdP. Pure protocol: it never touches users or sessions (the login module
 * does); it keeps only a replay cache of assertion IDs and the pending SP-initiated logouts.
 */
export class SamlConnector implements UpstreamConnector {
  readonly spEntityId: string;
  readonly acsUrl: string;
  readonly sloUrl: string;
  readonly metadataUrl: string;
  private readonly now: () => number;
  /** The IdP metadata (or federation aggregate) source, started and stopped with the connector. */
  readonly metadata: SamlMetadataLifecycle;

  constructor(
    readonly provider: SamlProviderConfig,
    private readonly deps: SamlConnectorDeps,
  ) {
    this.metadata = (deps.federation ?? deps.metadata)!;
    const urls = upstreamUrls(deps.publicBase, provider.id);
    this.metadataUrl = urls.samlMetadata;
    // The ACS is the generic upstream callback of the login module.
    this.acsUrl = urls.callback;
    this.sloUrl = urls.samlSlo;
    this.spEntityId = provider.sp.entity_id ?? this.metadataUrl;
    this.now = deps.now ?? Date.now;
  }

  /** The IdP metadata: first load before the server listens (a broken metadata_file stops the start), then its refresh schedule. */
  start(): Promise<void> {
    return this.metadata.start();
  }

  stop(): void {
    this.metadata.stop();
  }

  health(): ConnectorHealth {
    const h = this.metadata.health();
    return { ...h, status: h.status === 'up' ? 'up' : 'degraded' };
  }

  private get log() {
    return this.deps.logger.child({ component: 'saml', provider: this.provider.id });
  }

  private idp(): IdpDescriptor {
    const idp = this.deps.metadata?.descriptor();
    if (!idp) throw new UpstreamError('upstream_unavailable', userMsg('upstream.saml.unavailable'), 'no usable IdP metadata', 503);
    return idp;
  }

  get singleLogoutEnabled(): boolean {
    return this.provider.single_logout;
  }

  /** The SP metadata document served at /upstream/{id}/saml/metadata. */
  spMetadata(): string {
    const sp = this.provider.sp;
    return spMetadataXml({
      entityId: this.spEntityId,
      acsUrl: this.acsUrl,
      ...(this.provider.single_logout ? { sloUrl: this.sloUrl } : {}),
      signingCert: sp.cert,
      ...(sp.encrypted_assertions !== 'off' ? { encryptionCert: sp.cert } : {}),
      nameIdFormat: this.provider.name_id_format,
      authnRequestsSigned: sp.sign_requests,
      wantAssertionsSigned: this.provider.signature === 'assertion' || this.provider.signature === 'both',
    });
  }

  async begin(ctx: UpstreamLoginContext): Promise<BeginResult> {
    const requestId = `_${randomBytes(20).toString('hex')}`;
    if (this.deps.federation) return this.beginDiscovery(ctx, requestId);
    const issuedAt = new Date(this.now()).toISOString();
    const saved: SamlSaved = { requestId, issuedAt };
    return { ...(await this.authnRequest(this.idp(), { state: ctx.state, prompt: ctx.prompt, ...(ctx.loginHint ? { loginHint: ctx.loginHint } : {}) }, requestId)), saved: { ...saved } };
  }

  /** The AuthnRequest to one IdP: a Redirect URL, or a form for the HTTP-POST binding. */
  private async authnRequest(idp: IdpDescriptor, ctx: DiscoverySession['ctx'], requestId: string): Promise<{ redirectUrl?: string; formPost?: { url: string; fields: Record<string, string> } }> {
    const p = this.provider;
    const usePost = !idp.sso.redirect;
    const sign = p.sp.sign_requests || idp.wantAuthnRequestsSigned;
    const saml = new SAML({
      idpCert: idp.signingCerts,
      issuer: this.spEntityId,
      callbackUrl: this.acsUrl,
      entryPoint: (usePost ? idp.sso.post : idp.sso.redirect)!,
      identifierFormat: p.name_id_format,
      allowCreate: p.allow_create,
      forceAuthn: ctx.prompt.includes('login'),
      passive: ctx.prompt.includes('none'),
      ...(p.authn_context.length ? { authnContext: p.authn_context, racComparison: p.authn_context_comparison } : { disableRequestedAuthnContext: true }),
      ...(sign ? { privateKey: p.sp.key, publicCert: p.sp.cert, signatureAlgorithm: p.sp.signature_algorithm, digestAlgorithm: p.sp.signature_algorithm } : {}),
      generateUniqueId: () => requestId,
      authnRequestBinding: usePost ? 'HTTP-POST' : 'HTTP-Redirect',
    });
    const extra = p.login_hint_parameter && ctx.loginHint ? { additionalParams: { [p.login_hint_parameter]: ctx.loginHint } } : {};
    if (usePost) {
      const fields = (await saml.getAuthorizeMessageAsync(ctx.state, undefined, extra)) as Record<string, string>;
      return { formPost: { url: idp.sso.post!, fields } };
    }
    return { redirectUrl: await saml.getAuthorizeUrlAsync(ctx.state, undefined, extra) };
  }

  // --- Federations: the IdP is chosen on the discovery page (or an external WAYF) after begin(). ---

  /** Where the browser goes to choose an IdP: Causeway's discovery page, or the configured WAYF (SAML IdP Discovery protocol). */
  private async beginDiscovery(ctx: UpstreamLoginContext, requestId: string): Promise<BeginResult> {
    const token = randomBytes(24).toString('base64url');
    const session: DiscoverySession = { state: ctx.state, requestId, ctx: { state: ctx.state, prompt: ctx.prompt, ...(ctx.loginHint ? { loginHint: ctx.loginHint } : {}) } };
    await this.deps.kv.set(this.discoveryKey(token), JSON.stringify(session), DISCOVERY_SECONDS);
    const fed = this.provider.federation!;
    const returnUrl = `${this.discoveryUrl}/choose?s=${token}`;
    let redirectUrl = `${this.discoveryUrl}?s=${token}`;
    if (fed.discovery_url) {
      const wayf = new URL(fed.discovery_url);
      wayf.searchParams.set('entityID', this.spEntityId);
      wayf.searchParams.set('return', returnUrl);
      wayf.searchParams.set('returnIDParam', 'entityID');
      redirectUrl = wayf.href;
    }
    return { redirectUrl, saved: { requestId, federation: true } };
  }

  private discoveryKey(token: string) {
    return `saml:discovery:${this.provider.id}:${sha256(token)}`;
  }
  private choiceKey(requestId: string) {
    return `saml:federation-choice:${this.provider.id}:${sha256(requestId)}`;
  }

  /** The discovery session of a token from the page's URL (undefined: unknown or expired). */
  async discoverySession(token: string): Promise<DiscoverySession | undefined> {
    if (!/^[A-Za-z0-9_-]{32}$/.test(token)) return undefined;
    const raw = await this.deps.kv.get(this.discoveryKey(token));
    return raw ? (JSON.parse(raw) as DiscoverySession) : undefined;
  }

  /**
   * The person chose `entityId` (on the discovery page or at the WAYF): the AuthnRequest goes to
   * that IdP, and the choice is kept with the request so the response is checked against that
   * IdP alone. Choosing again (the back button) replaces the choice.
   */
  async chooseIdp(session: DiscoverySession, entityId: string): Promise<{ redirectUrl?: string; formPost?: { url: string; fields: Record<string, string> } }> {
    const idp = await this.deps.federation!.descriptor(entityId);
    if (!idp) throw new UpstreamError('config', userMsg('upstream.saml.federation.unknown_idp'), `entity ${entityId} not in the federation (or filtered out, expired, unusable)`, 400);
    const choice: FederationChoice = { entityId, issuedAt: new Date(this.now()).toISOString() };
    await this.deps.kv.set(this.choiceKey(session.requestId), JSON.stringify(choice), DISCOVERY_SECONDS);
    this.log.info({ entityId }, 'federation IdP chosen');
    return this.authnRequest(idp, session.ctx, session.requestId);
  }

  /** The federation's IdPs as last loaded (undefined while none is usable). */
  federationIndex() {
    return this.deps.federation?.current();
  }

  get discoveryUrl(): string {
    return upstreamUrls(this.deps.publicBase, this.provider.id).samlDiscovery;
  }

  /** RelayState carries the login's single-use state (HTTP-POST to the ACS; a query value is accepted for symmetry). */
  extractState(req: CallbackRequest): string | undefined {
    const v = req.method === 'POST' ? req.body.RelayState : req.query.RelayState;
    return typeof v === 'string' && /^[\x21-\x7e]{1,80}$/.test(v) ? v : undefined;
  }

  /** IdP-initiated SSO: a POSTed SAMLResponse without a state of ours, when `allow_idp_initiated: true`. */
  acceptsUnsolicited(req: CallbackRequest): boolean {
    return this.provider.allow_idp_initiated && req.method === 'POST' && typeof req.body.SAMLResponse === 'string';
  }

  async complete(req: CallbackRequest, saved: Record<string, unknown>, _ctx?: UpstreamLoginContext): Promise<Assertion> {
    if (req.method !== 'POST') throw new UpstreamError('malformed', userMsg('upstream.saml.not_post'));
    const p = this.provider;
    // An unsolicited response answers no request of ours, whatever the login prepared.
    const requestId = !req.unsolicited && typeof saved.requestId === 'string' ? saved.requestId : undefined;
    if (!requestId && !p.allow_idp_initiated) {
      throw new UpstreamError('unsolicited', userMsg('upstream.saml.unsolicited_refused'));
    }
    let idp: IdpDescriptor;
    let requestIssuedAt = typeof saved.issuedAt === 'string' ? saved.issuedAt : undefined;
    let entityId: string | undefined;
    if (this.deps.federation) {
      // Checked against the IdP the person chose for this request, and no other.
      const raw = requestId ? await this.deps.kv.get(this.choiceKey(requestId)) : undefined;
      if (!raw) throw new UpstreamError('unsolicited', userMsg('upstream.saml.federation.no_choice'), 'no IdP was chosen for this request');
      const choice = JSON.parse(raw) as FederationChoice;
      const chosen = await this.deps.federation.descriptor(choice.entityId);
      if (!chosen) throw new UpstreamError('upstream_unavailable', userMsg('upstream.saml.unavailable'), `entity ${choice.entityId} no longer usable`, 503);
      idp = chosen;
      entityId = choice.entityId;
      requestIssuedAt = choice.issuedAt;
    } else {
      idp = this.idp();
    }
    const verified = await verifySamlResponse(req.body.SAMLResponse, {
      idp,
      spEntityId: this.spEntityId,
      acsUrl: this.acsUrl,
      spKey: p.sp.key,
      signature: p.signature,
      encryptedAssertions: p.sp.encrypted_assertions,
      clockSkewSeconds: p.clock_skew,
      ...(p.max_assertion_age !== undefined ? { maxAssertionAgeSeconds: p.max_assertion_age } : {}),
      maxMessageSize: p.max_message_size,
      allowSha1: p.allow_sha1,
      ...(requestId ? { requestId, requestIssuedAt } : {}),
      now: this.now(),
    });

    // Each assertion is accepted once, for as long as it could be presented.
    const ttl = Math.max(1, Math.ceil((verified.usableUntil - this.now()) / 1000));
    const fresh = await this.deps.kv.setIfAbsent(`saml:assertion:${p.id}:${sha256(`${verified.issuer}\u0000${verified.assertionId}`)}`, '1', ttl);
    if (!fresh) throw new UpstreamError('replayed', userMsg('upstream.saml.replayed'), `assertion ${verified.assertionId}`);

    const attributes = attributeMap(verified.attributes, verified.nameId, p.attribute_aliases);
    if (entityId) attributes.idp_entity_id = entityId;
    const subject = entityId ? federationSubject(attributes, verified.nameId, !!p.claims.subject) : this.subjectOf(verified.nameId);
    const details: SamlSessionDetails | undefined = verified.nameId
      ? {
          nameId: verified.nameId.value,
          ...(verified.nameId.format ? { nameIdFormat: verified.nameId.format } : {}),
          ...(verified.nameId.nameQualifier ? { nameQualifier: verified.nameId.nameQualifier } : {}),
          ...(verified.nameId.spNameQualifier ? { spNameQualifier: verified.nameId.spNameQualifier } : {}),
          ...(verified.sessionIndex ? { sessionIndex: verified.sessionIndex } : {}),
          ...(entityId ? { idpEntityId: entityId } : {}),
        }
      : undefined;
    this.log.info({ nameIdHash: sha256(verified.nameId?.value ?? '').slice(0, 16), encrypted: verified.encrypted, solicited: !!requestId }, 'SAML assertion accepted');
    return {
      providerId: p.id,
      subject,
      // One namespace per IdP: two IdPs' identical NameIDs (or eduPerson identifiers) are two identities.
      ...(entityId ? { subjectScope: entityId } : {}),
      attributes,
      ...(verified.sessionIndex ? { upstreamSid: verified.sessionIndex } : {}),
      ...(details ? { sessionDetails: { ...details } } : {}),
    };
  }

  /**
   * The protocol subject: the NameID. When `claims.subject` is configured the claims mapping
   * replaces it (e.g. `{{ user.uid }}`, as Synapse keyed SAML users); otherwise the NameID must be
   * one that does not change between sign-ins (not transient).
   */
  private subjectOf(nameId: { value: string; format?: string } | undefined): string {
    if (this.provider.claims.subject) return nameId?.value ?? '';
    if (!nameId) throw new UpstreamError('config', userMsg('upstream.saml.no_name_id'));
    if (nameId.format === NAMEID_FORMATS.transient) {
      throw new UpstreamError('config', userMsg('upstream.saml.transient_name_id'));
    }
    return nameId.value;
  }

  private sloContext(idp: IdpDescriptor): SloContext {
    const p = this.provider;
    return {
      idp,
      spEntityId: this.spEntityId,
      acsUrl: this.acsUrl,
      sloUrl: this.sloUrl,
      spKey: p.sp.key,
      signatureAlgorithm: p.sp.signature_algorithm,
      allowSha1: p.allow_sha1,
      clockSkewSeconds: p.clock_skew,
      maxMessageSize: p.max_message_size,
      now: this.now(),
    };
  }

  /**
   * SP-initiated Single Logout: a signed LogoutRequest (NameID + SessionIndex of the session) to
   * the IdP. Its LogoutResponse comes back to /upstream/{id}/saml/slo, which sends the browser on
   * to `returnTo`. Undefined when SLO is off, the IdP has no Redirect SLO or the session lacks a NameID.
   */
  async logoutUrl(session: UpstreamSessionRef, opts: { returnTo: string; state: string }): Promise<string | undefined> {
    if (!this.provider.single_logout) return undefined;
    const idp = this.deps.metadata?.descriptor();
    const d = session.details as Partial<SamlSessionDetails> | null;
    if (!idp?.slo.redirect || !d || typeof d.nameId !== 'string') return undefined;
    const requestId = `_${randomBytes(20).toString('hex')}`;
    await this.deps.kv.set(this.pendingKey(requestId), JSON.stringify({ returnTo: opts.returnTo, state: opts.state }), PENDING_LOGOUT_SECONDS);
    return logoutRequestUrl(
      this.sloContext(idp),
      {
        nameId: d.nameId,
        ...(d.nameIdFormat ? { nameIdFormat: d.nameIdFormat } : {}),
        ...(d.nameQualifier ? { nameQualifier: d.nameQualifier } : {}),
        ...(d.spNameQualifier ? { spNameQualifier: d.spNameQualifier } : {}),
        ...((d.sessionIndex ?? session.upstreamSid) ? { sessionIndex: (d.sessionIndex ?? session.upstreamSid)! } : {}),
      },
      requestId,
      opts.state,
    );
  }

  private pendingKey(requestId: string) {
    return `saml:slo:${this.provider.id}:${sha256(requestId)}`;
  }

  /**
   * An inbound Single Logout message at /upstream/{id}/saml/slo (Redirect: `rawQuery` is the query
   * string as received; POST: the form body). Throws LogoutMessageError (shown as a page).
   */
  async handleSlo(req: { method: 'GET' | 'POST'; query: Record<string, unknown>; rawQuery: string; body: Record<string, unknown> }): Promise<SloOutcome> {
    if (!this.provider.single_logout) throw new LogoutMessageError(userMsg('upstream.saml.logout.not_enabled'));
    const idp = this.deps.metadata?.descriptor();
    if (!idp) throw new LogoutMessageError(userMsg('upstream.saml.logout.unavailable'));
    const c = this.sloContext(idp);
    const msg = req.method === 'GET' ? await verifyRedirectLogout(req.query, req.rawQuery, c) : await verifyPostLogout(req.body, c);

    if (msg.kind === 'response') {
      // Answers a LogoutRequest we sent: bound by its (signed) InResponseTo, usable once.
      const pending = msg.inResponseTo ? await this.deps.kv.take(this.pendingKey(msg.inResponseTo)) : undefined;
      if (!pending) throw new LogoutMessageError(userMsg('upstream.saml.logout.no_pending'));
      const { returnTo, state } = JSON.parse(pending) as { returnTo: string; state: string };
      if (msg.relayState !== undefined && msg.relayState !== state) throw new LogoutMessageError(userMsg('upstream.saml.logout.other_sign_out'));
      if (!msg.success) this.log.warn({ status: msg.status }, 'the IdP did not confirm the Single Logout');
      return { kind: 'response', returnTo, state, success: msg.success, status: msg.status };
    }

    // IdP-initiated: each LogoutRequest is acted on once.
    const fresh = await this.deps.kv.setIfAbsent(`saml:logout-request:${this.provider.id}:${sha256(msg.id)}`, '1', 20 * 60 + this.provider.clock_skew);
    if (!fresh) throw new LogoutMessageError(userMsg('upstream.saml.logout.replayed'));
    return {
      kind: 'request',
      request: msg,
      finish: (ended: boolean) => logoutResponseUrl(c, msg, ended),
    };
  }
}

/** The connector registry's factory for `kind: saml` (no network here: `start()` loads the metadata). */
export function createSamlConnector(provider: SamlProviderConfig, deps: ConnectorDeps): SamlConnector {
  if (provider.federation) {
    const federation = new FederationSource(provider.id, provider.federation, { kv: deps.kv, logger: deps.logger, allowInsecureHttp: provider.allow_insecure_http });
    return new SamlConnector(provider, { publicBase: deps.publicBase, kv: deps.kv, federation, logger: deps.logger });
  }
  const metadata = new IdpMetadataSource(provider, { kv: deps.kv, logger: deps.logger });
  return new SamlConnector(provider, { publicBase: deps.publicBase, kv: deps.kv, metadata, logger: deps.logger });
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
