import { createHash } from 'node:crypto';
import { upstreamCall } from '../../telemetry/outbound-calls.js';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../../storage/kv-store.js';
import { UpstreamError, type Assertion, type BeginResult, type CallbackRequest, type UpstreamConnector, type UpstreamLoginContext, type UpstreamSessionRef } from '../connector.js';
import type { CasProviderConfig } from './cas.config.js';
import { casEndpoints, explainFailure, isServiceTicket, parseValidationResponse, type ValidationResult } from './cas-protocol.js';
import { CasXmlError, MAX_XML_BYTES } from './cas-xml.js';
import { msg } from '../../web/i18n/message.js';
import { upstreamUrls } from '../upstream-urls.js';
import { BodyTooLargeError, readBodyBounded } from '../bounded-body.js';

export interface CasConnectorDeps {
  /** `http.public_base` (ends with "/"). */
  publicBase: string;
  /** Replay cache for service tickets (shared by all replicas). */
  kv: KeyValueStore;
  logger: Logger;
}

/** How long a validated ticket is remembered: far beyond any CAS server's ticket lifetime (seconds to minutes). */
const TICKET_MEMORY_SECONDS = 24 * 3600;

/** KeyValueStore key marking a service ticket as used (hashed: tickets are bearer credentials until validated). */
export function ticketKey(providerId: string, ticket: string): string {
  return `cas:st:${providerId}:${createHash('sha256').update(ticket).digest('base64url')}`;
}

/** Protocol state kept in the login machine between begin and complete. */
interface CasSaved {
  service: string;
  renew: boolean;
}

/**
 * CAS 2.0/3.0 client. The service URL is {public_base}upstream/{id}/cas/service?state=…: the CAS
 * server sends the browser back there with a ticket (CasServiceController forwards it to the
 * login's callback) and POSTs Single Logout requests to it.
 */
export class CasConnector implements UpstreamConnector {
  private readonly endpoints: ReturnType<typeof casEndpoints>;
  private readonly log: Logger;

  constructor(
    readonly provider: CasProviderConfig,
    private readonly deps: CasConnectorDeps,
  ) {
    this.endpoints = casEndpoints(provider.server_url, provider.protocol);
    this.log = deps.logger.child({ component: 'cas', provider: provider.id });
  }

  /** Where CAS sends the browser back and POSTs Single Logout requests (without the state). */
  get serviceEndpoint(): string {
    return upstreamUrls(this.deps.publicBase, this.provider.id).casServiceEndpoint;
  }

  async begin(ctx: UpstreamLoginContext): Promise<BeginResult> {
    const service = upstreamUrls(this.deps.publicBase, this.provider.id).casService(ctx.state);
    const url = new URL(this.endpoints.login);
    url.searchParams.set('service', service);
    // prompt=login asks for a fresh sign-in. The spec makes gateway meaningless with renew, so send one only.
    const renew = ctx.prompt.includes('login');
    if (renew) url.searchParams.set('renew', 'true');
    else if (this.provider.gateway) url.searchParams.set('gateway', 'true');
    const saved: CasSaved = { service, renew };
    return { redirectUrl: url.href, saved: { ...saved } };
  }

  extractState(req: CallbackRequest): string | undefined {
    const state: unknown = req.query.state;
    return typeof state === 'string' && state.length > 0 && state.length <= 512 ? state : undefined;
  }

  async complete(req: CallbackRequest, rawSaved: Record<string, unknown>, ctx: UpstreamLoginContext): Promise<Assertion> {
    const idp = this.provider.name;
    const saved = rawSaved as Partial<CasSaved>;
    if (typeof saved.service !== 'string' || saved.service !== upstreamUrls(this.deps.publicBase, this.provider.id).casService(ctx.state)) {
      throw new UpstreamError('state_mismatch', msg('upstream.cas.state_mismatch'));
    }
    if (req.query.state !== ctx.state) {
      throw new UpstreamError('state_mismatch', msg('upstream.cas.state_mismatch'));
    }
    // Typed as strings, but a repeated query parameter arrives as an array: check the shape, not the type.
    const ticket: unknown = req.query.ticket;
    if (ticket === undefined || ticket === '') {
      if (this.provider.gateway && !saved.renew) {
        throw new UpstreamError('upstream_denied', msg('upstream.cas.not_signed_in', { provider: idp }));
      }
      throw new UpstreamError('malformed', msg('upstream.cas.no_ticket', { provider: idp }));
    }
    if (!isServiceTicket(ticket)) {
      throw new UpstreamError('malformed', msg('upstream.cas.bad_ticket', { provider: idp }), { ticketType: typeof ticket });
    }
    // Single use on our side too, before asking the server: a replay is refused even if the server would accept it.
    if (!(await this.deps.kv.setIfAbsent(ticketKey(this.provider.id, ticket), 'used', TICKET_MEMORY_SECONDS))) {
      throw new UpstreamError('replayed', msg('upstream.cas.ticket_used', { provider: idp }));
    }

    const result = await this.validate(saved.service, ticket, saved.renew === true);
    if (!result.ok) {
      const f = explainFailure(result.code);
      throw new UpstreamError(f.kind, f.message(idp), { code: result.code, message: result.message }, f.status);
    }
    if (saved.renew && result.attributes.isFromNewLogin === 'false') {
      throw new UpstreamError('upstream_denied', msg('upstream.cas.no_renew', { provider: idp }));
    }
    this.log.debug({ attributeForm: result.attributeForm, attributes: Object.keys(result.attributes) }, 'cas ticket validated');
    return {
      providerId: this.provider.id,
      subject: result.user,
      // The CAS user is `user.user` in templates; it wins over a released attribute named "user".
      attributes: { ...result.attributes, user: result.user },
      upstreamSid: ticket,
      sessionDetails: { protocol: this.provider.protocol },
    };
  }

  /** Asks the CAS server about a ticket, with exactly the service string given at login. */
  private async validate(service: string, ticket: string, renew: boolean): Promise<ValidationResult> {
    const idp = this.provider.name;
    const url = new URL(this.endpoints.validate);
    url.searchParams.set('service', service);
    url.searchParams.set('ticket', ticket);
    if (renew) url.searchParams.set('renew', 'true');
    let text: string;
    try {
      text = await upstreamCall(this.provider.id, 'cas_validate', async () => {
        const res = await fetch(url, {
          headers: { accept: 'application/xml, text/xml;q=0.9, */*;q=0.1' },
          redirect: 'error',
          signal: AbortSignal.timeout(this.provider.timeout_ms),
        });
        if (res.status !== 200) {
          await res.body?.cancel();
          throw new UpstreamError('upstream_unavailable', msg('upstream.cas.validation_failed', { provider: idp }), { status: res.status }, 502);
        }
        return readBounded(res, MAX_XML_BYTES);
      });
    } catch (e) {
      if (e instanceof UpstreamError) throw e;
      const name = (e as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new UpstreamError('upstream_unavailable', msg('upstream.cas.timeout', { provider: idp }), { timeoutMs: this.provider.timeout_ms }, 504);
      }
      if (e instanceof CasXmlError) throw new UpstreamError('malformed', msg('upstream.cas.bad_answer', { provider: idp }), e, 502);
      throw new UpstreamError('upstream_unavailable', msg('upstream.cas.unreachable', { provider: idp }), e, 502);
    }
    try {
      return parseValidationResponse(text);
    } catch (e) {
      throw new UpstreamError('malformed', msg('upstream.cas.bad_answer', { provider: idp }), e, 502);
    }
  }

  async logoutUrl(_session: UpstreamSessionRef, opts: { returnTo: string; state: string }): Promise<string | undefined> {
    if (!this.provider.upstream_logout) return undefined;
    const back = new URL(opts.returnTo);
    back.searchParams.set('state', opts.state);
    const url = new URL(this.endpoints.logout);
    // CAS 3 names the return address `service`; CAS 2 servers read `url`.
    url.searchParams.set(this.provider.protocol === 3 ? 'service' : 'url', back.href);
    return url.href;
  }
}

/** Reads a response body as UTF-8, refusing more than `limit` bytes and invalid encodings. */
async function readBounded(res: Response, limit: number): Promise<string> {
  let body: Buffer;
  try {
    body = await readBodyBounded(res, limit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw new CasXmlError('too_large', e.declared === undefined ? `answer larger than ${limit} bytes` : `answer of ${e.declared} bytes`);
    throw e;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new CasXmlError('not_well_formed', 'answer is not UTF-8');
  }
}

export function createCasConnector(provider: CasProviderConfig, deps: CasConnectorDeps): CasConnector {
  return new CasConnector(provider, deps);
}
