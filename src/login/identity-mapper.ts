import { Injectable } from '@nestjs/common';
import type { MappedIdentity } from '../identity/mapped-identity.js';
import type { Assertion } from '../upstream/connector.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';

/** Claims mapping as the login flow uses it: Assertion → MappedIdentity, or an UpstreamError (`requirement_failed`). */
export abstract class IdentityMapper {
  abstract map(provider: ProviderConfig, assertion: Assertion): Promise<MappedIdentity>;
}

const attr = (a: Assertion, name: string): string | undefined => {
  const v = a.attributes[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() || undefined;
};

/**
 * Direct mapping for the dev sign-in until the broker's template mapper (src/upstream/mapping/)
 * is wired in: localpart = username, display name = displayName. It refuses providers whose config
 * needs the template mapper (templates or attribute requirements) rather than ignoring them.
 */
@Injectable()
export class DirectIdentityMapper extends IdentityMapper {
  async map(provider: ProviderConfig, assertion: Assertion): Promise<MappedIdentity> {
    const c = provider.claims;
    if (provider.attribute_requirements.length || c.subject || c.localpart.template || c.displayname.template || c.email.template) {
      throw new Error(`provider ${provider.id}: claims templates and attribute requirements need the claims mapper`);
    }
    const action = c.localpart.action;
    const username = action === 'ignore' ? undefined : attr(assertion, 'username');
    return {
      providerId: provider.id,
      subject: assertion.subject,
      localpart: { action, mode: action === 'force' ? 'use' : action === 'require' ? 'confirm' : 'ask', value: username, sync: 'first_login' },
      displayname: { action: c.displayname.action, sync: c.displayname.sync, value: c.displayname.action === 'ignore' ? undefined : attr(assertion, 'displayName') },
      email: { action: c.email.action, sync: c.email.sync, value: c.email.action === 'ignore' ? undefined : attr(assertion, 'email') },
      onConflict: provider.on_conflict,
    };
  }
}
