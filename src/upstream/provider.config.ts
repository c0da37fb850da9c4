import { z } from 'zod';
import { attributeRequirement, claimsSection } from './mapping/claims.config.js';

/** Keys every upstream provider has, whatever its protocol. */
export const providerBaseShape = {
  /** Stable id, used in URLs (/upstream/{id}/...) and in account links. Never change it once users linked. */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected 1-64 characters of a-z 0-9 _ - (starting with a letter or digit)'),
  /** Button label on the provider picker. */
  name: z.string().min(1).max(100),
  /** Brand for the button's icon. */
  brand: z.enum(['apple', 'facebook', 'github', 'gitlab', 'google', 'microsoft', 'okta', 'keycloak', 'university', 'generic']).optional(),
  /** Position on the picker (lower first; unset counts as 0; ties keep the YAML order). */
  order: z.number().int().optional(),
  claims: claimsSection.prefault({}),
  attribute_requirements: z.array(attributeRequirement).default([]),
  /**
   * Who is an admin at this IdP (same rule forms as attribute_requirements, e.g. `{ attribute: groups,
   * contains: matrix-admins }`), checked at each sign-in: it decides whether the user may request
   * `urn:synapse:admin:*`; losing it ends the sessions holding that scope.
   */
  admin: attributeRequirement.optional(),
  /**
   * A new identity whose localpart (action `force` or `require`) already belongs to an account
   * (MAS's meanings): `fail` refuses; `link` attaches this identity to that account (MAS `add`);
   * `set` attaches it only if the account has no link for this provider yet; `replace` moves the
   * account's link for this provider to this identity (IdP re-keying); `confirm` asks the person to
   * sign in with a method already linked to that account first, then links.
   */
  on_conflict: z.enum(['fail', 'link', 'set', 'replace', 'confirm']).default('fail'),
  /**
   * Who may get an account through this provider: `open` (anyone passing the requirements),
   * `existing_only` (accounts that already exist: pre-provisioned, imported or linked; a new
   * person gets a page saying so), `disabled` (only identities already linked sign in).
   */
  registration: z.enum(['open', 'existing_only', 'disabled']).default('open'),
  /** Synapse's `auth_provider` id for this IdP (e.g. `saml`, `cas`, `oidc-corp`): imported links keep working. */
  synapse_idp_id: z.string().min(1).optional(),
};
