import { z } from 'zod';
import { attributeRequirement, claimsSection } from './mapping/claims.config.js';

/** Keys every upstream provider has, whatever its protocol. */
export const providerBaseShape = {
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected 1-64 characters of a-z 0-9 _ - (starting with a letter or digit)')
    .describe('Stable id of the provider, used in its URLs (`/upstream/<id>/…`) and in account links: never change it once people have signed in.'),
  name: z.string().min(1).max(100).describe('Label of the provider\'s button on the sign-in page.'),
  brand: z
    .enum(['apple', 'discord', 'facebook', 'github', 'gitlab', 'google', 'microsoft', 'okta', 'keycloak', 'university', 'generic'])
    .optional()
    .describe('Icon of the button on the sign-in page.'),
  order: z.number().int().optional().describe('Position on the sign-in page: lower first; unset counts as 0; ties keep the order of the file.'),
  claims: claimsSection.prefault({}),
  attribute_requirements: z
    .array(attributeRequirement)
    .default([])
    .describe('Conditions the IdP\'s attributes must meet before any account is created or used, e.g. `{attribute: groups, contains: staff}`; all must hold.'),
  admin: attributeRequirement
    .optional()
    .describe(
      'Who is an admin at this IdP (the rule forms of `attribute_requirements`, e.g. `{attribute: groups, contains: matrix-admins}`), checked at each sign-in: it decides whether the person may request `urn:synapse:admin:*`; losing it ends the sessions holding that scope.',
    ),
  on_conflict: z
    .enum(['fail', 'link'])
    .default('fail')
    .describe('When the localpart an identity maps to already belongs to an account not linked to it: `fail` refuses the sign-in, `link` attaches the identity to that account.'),
  synapse_idp_id: z
    .string()
    .min(1)
    .optional()
    .describe('Synapse\'s `auth_provider` id for this IdP (e.g. `saml`, `cas`, `oidc-corp`): links imported from Synapse keep their users on the same accounts.'),
};
