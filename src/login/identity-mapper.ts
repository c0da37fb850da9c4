import { Injectable } from '@nestjs/common';
import type { MappedIdentity } from '../upstream/mapping/mapped-identity.js';
import type { Assertion } from '../upstream/connector.js';
import { ClaimsMapper } from '../upstream/mapping/claims-mapper.service.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';

/** Claims mapping as the login flow uses it: Assertion → MappedIdentity, or an UpstreamError (`requirement_failed`). */
export abstract class IdentityMapper {
  abstract map(provider: ProviderConfig, assertion: Assertion): Promise<MappedIdentity>;
}

/** The broker's template mapper (src/upstream/mapping/): requirements, then subject, localpart, profile. */
@Injectable()
export class TemplateIdentityMapper extends IdentityMapper {
  constructor(private readonly claims: ClaimsMapper) {
    super();
  }

  async map(_provider: ProviderConfig, assertion: Assertion): Promise<MappedIdentity> {
    return this.claims.mapOrThrow(assertion);
  }
}
