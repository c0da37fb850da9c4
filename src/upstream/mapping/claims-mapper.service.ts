import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import type { ProviderConfig } from '../providers.schema.js';
import type { LocalpartPolicyOptions } from '../../matrix/localpart-policy.js';
import { UpstreamError, type Assertion } from '../connector.js';
import { defaultTemplatesOf } from '../connector-registry.js';
import { ProviderMapping, type MappingResult } from './claims-mapper.js';

/**
 * Claims mapping for the login flow: templates compiled once per provider at start-up (their
 * syntax was checked with the config), localpart policy from `matrix.homeserver` and
 * `policy.reserved_localparts` (`policy.admin_localparts` are reserved for new accounts only: IdentityLinker).
 */
@Injectable()
export class ClaimsMapper {
  private readonly mappings = new Map<string, ProviderMapping>();
  private readonly policy: LocalpartPolicyOptions;

  constructor(@Inject(CONFIG) config: GatewayConfig<ProviderConfig>) {
    for (const p of config.upstream.providers) this.mappings.set(p.id, new ProviderMapping(p, defaultTemplatesOf(p)));
    this.policy = { serverName: config.matrix.homeserver, reserved: config.policy.reserved_localparts };
  }

  /** Requirements first, then subject, localpart, displayname, email. Never throws for user data. */
  map(assertion: Assertion): MappingResult {
    const mapping = this.mappings.get(assertion.providerId);
    if (!mapping) throw new Error(`no provider "${assertion.providerId}"`);
    return mapping.map(assertion, this.policy);
  }

  /** Same, throwing an UpstreamError (403, kind requirement_failed, user-safe message; the failure as cause) on failure. */
  mapOrThrow(assertion: Assertion) {
    const result = this.map(assertion);
    if (!result.ok) throw new UpstreamError('requirement_failed', result.userMessage, result.failure, 403);
    return result.identity;
  }
}
