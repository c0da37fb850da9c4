import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import type { ProviderConfig } from '../providers.schema.js';
import { LOGGER } from '../../http/logger.module.js';
import { SessionTerminator } from '../../oauth2/oauth2.contracts.js';
import { KeyValueStore } from '../../storage/kv-store.js';
import { PageError } from '../../web/page-error.js';
import type { CasProviderConfig } from './cas.config.js';
import { ticketKey } from './cas.connector.js';
import { parseLogoutRequest } from './cas-protocol.js';
import { CasXmlError } from './cas-xml.js';

/** A logoutRequest is a few hundred bytes; anything near this is not one. */
export const MAX_LOGOUT_REQUEST_CHARS = 16 * 1024;

/** Is `ip` inside one of the CIDR ranges? IPv4-mapped IPv6 addresses count as IPv4. */
export function addressAllowed(ip: string, ranges: string[]): boolean {
  if (ranges.length === 0) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return false;
  }
  return ranges.some((r) => {
    const [net, bits] = ipaddr.parseCIDR(r);
    if (net.kind() === 'ipv4') return addr.kind() === 'ipv4' && (addr as ipaddr.IPv4).match(net as ipaddr.IPv4, bits);
    // An IPv6 range (e.g. ::ffff:10.0.0.0/104) also covers IPv4 addresses in their mapped form.
    const v6 = addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6) : (addr as ipaddr.IPv4).toIPv4MappedAddress();
    return v6.match(net as ipaddr.IPv6, bits);
  });
}

/**
 * CAS Single Logout: the CAS server POSTs a `logoutRequest` (samlp:LogoutRequest, unsigned as in
 * every CAS server) naming the service ticket of a sign-in; every Causeway session born from it ends.
 */
@Injectable()
export class CasLogoutService {
  private readonly log: Logger;
  private terminator?: SessionTerminator;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig<ProviderConfig>,
    private readonly kv: KeyValueStore,
    @Inject(LOGGER) logger: Logger,
    private readonly moduleRef: ModuleRef,
  ) {
    this.log = logger.child({ component: 'cas-slo' });
  }

  /** The OAuth module's SessionTerminator, found on first use wherever it is provided. */
  private sessions(): SessionTerminator {
    if (!this.terminator) {
      try {
        this.terminator = this.moduleRef.get(SessionTerminator, { strict: false });
      } catch {
        throw new PageError(503, 'error.title.temporarily_unavailable', 'error.sign_out_unavailable', { reason: 'no provider for SessionTerminator' });
      }
    }
    return this.terminator;
  }

  provider(id: string): CasProviderConfig {
    const p = this.config.upstream.providers.find((x) => x.id === id);
    if (!p || p.kind !== 'cas') throw new PageError(404, 'error.title.page_not_found', 'error.not_found', { reason: 'not a CAS provider' });
    return p;
  }

  /** Only reachable in dev_mode (the config refuses it otherwise): say loudly that anyone may sign people out. */
  onModuleInit() {
    for (const p of this.config.upstream.providers) {
      if (p.kind === 'cas' && p.single_logout && p.slo_allowed_from.length === 0) {
        this.log.warn({ provider: p.id }, 'CAS single logout accepts unsigned logout requests from ANY address: set slo_allowed_from (required outside dev_mode)');
      }
    }
  }

  /** Handles one logoutRequest; returns how many Causeway sessions ended (0 for an unknown ticket). */
  async receive(providerId: string, ip: string, body: unknown): Promise<number> {
    const provider = this.provider(providerId);
    if (!provider.single_logout) {
      throw new PageError(404, 'error.title.page_not_found', 'error.not_found', { reason: 'cas single_logout is off' });
    }
    if (!addressAllowed(ip, provider.slo_allowed_from)) {
      this.log.warn({ provider: providerId, ip }, 'cas logoutRequest from an address outside slo_allowed_from refused');
      throw new PageError(403, 'error.title.not_allowed', 'error.cas_logout_forbidden', { reason: 'slo_allowed_from', ip });
    }
    const field = body && typeof body === 'object' ? (body as Record<string, unknown>).logoutRequest : undefined;
    if (typeof field !== 'string' || field.length === 0) {
      throw new PageError(400, 'error.title.bad_request', 'error.cas_logout_missing', { reason: 'no logoutRequest' });
    }
    if (field.length > MAX_LOGOUT_REQUEST_CHARS) {
      throw new PageError(413, 'error.title.request_too_large', 'error.cas_logout_too_large', { reason: 'logoutRequest too large', length: field.length });
    }
    let ticket: string;
    try {
      ticket = parseLogoutRequest(field).sessionIndex;
    } catch (e) {
      if (!(e instanceof CasXmlError)) throw e;
      throw new PageError(400, 'error.title.bad_request', 'error.cas_logout_malformed', { reason: `malformed logoutRequest: ${e.message}` });
    }
    const sessions = this.sessions();
    // A ticket logged out before its sign-in completed must not complete it afterwards.
    await this.kv.setIfAbsent(ticketKey(providerId, ticket), 'logged-out', 24 * 3600);
    const ended = await sessions.endUpstreamSessions(providerId, { upstreamSid: ticket });
    this.log.info({ provider: providerId, ended }, 'cas single logout');
    return ended;
  }
}
