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
  /** A localpart that already belongs to someone: `fail` refuses, `link` attaches this identity to that account. */
  on_conflict: z.enum(['fail', 'link']).default('fail'),
  /** Synapse's `auth_provider` id for this IdP (e.g. `saml`, `cas`, `oidc-corp`): imported links keep working. */
  synapse_idp_id: z.string().min(1).optional(),
};
