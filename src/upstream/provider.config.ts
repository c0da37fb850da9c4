import { z } from 'zod';
import { attributeRequirement, claimsSection } from './mapping/claims.config.js';

/** Keys every upstream provider has, whatever its protocol. */
export const providerBaseShape = {
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected 1-64 characters of a-z 0-9 _ - (starting with a letter or digit)')
    .describe('Stable id of the provider, used in its URLs (`/upstream/<id>/…`) and in account links: never change it once people have signed in.'),
  name: z.string().min(1).max(100).describe("Label of the provider's button on the sign-in page."),
  brand: z.enum(['apple', 'discord', 'facebook', 'github', 'gitlab', 'google', 'microsoft', 'okta', 'keycloak', 'university', 'generic']).optional().describe('Icon of the button on the sign-in page.'),
  order: z.number().int().optional().describe('Position on the sign-in page: lower first; unset counts as 0; ties keep the order of the file.'),
  claims: claimsSection.prefault({}),
  attribute_requirements: z
    .array(attributeRequirement)
    .default([])
    .describe("Conditions the IdP's attributes must meet before any account is created or used, e.g. `{attribute: groups, contains: staff}`; all must hold."),
  admin: attributeRequirement
    .optional()
    .describe(
      'Who is an admin at this IdP (the rule forms of `attribute_requirements`, e.g. `{attribute: groups, contains: matrix-admins}`), checked at each sign-in: it decides whether the person may request `urn:synapse:admin:*`; losing it ends the sessions holding that scope.',
    ),
  on_conflict: z
    .enum(['fail', 'link', 'set', 'replace', 'confirm'])
    .default('fail')
    .describe(
      "When the localpart (action force or require) of a new identity already belongs to an account (MAS's meanings): `fail` refuses; `link` attaches the identity to that account (MAS `add`); `set` only if the account has no link of this provider yet; `replace` moves the account's link of this provider to it (IdP re-keying); `confirm` asks the person to sign in with a method already linked to the account first.",
    ),
  registration: z
    .enum(['open', 'existing_only', 'disabled'])
    .default('open')
    .describe(
      'Who may get an account through this provider: `open` (anyone meeting the requirements), `existing_only` (accounts that exist already: pre-provisioned, imported or linked), `disabled` (only identities linked already sign in).',
    ),
  synapse_idp_id: z.string().min(1).optional().describe("Synapse's `auth_provider` id for this IdP (e.g. `saml`, `cas`, `oidc-corp`): links imported from Synapse keep their users on the same accounts."),
};
