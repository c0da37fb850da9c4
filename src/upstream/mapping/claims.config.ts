import { z } from 'zod';
import { TEMPLATE_LIMITS, templateProblem } from './template-engine.js';

/**
 * How an imported value is used (MAS's ImportAction, with Causeway's registration page):
 *
 * | action    | localpart                                                        | displayname / email                        |
 * |-----------|------------------------------------------------------------------|--------------------------------------------|
 * | `force`   | the template's value is the username; missing/invalid ⇒ refused  | imported when present                      |
 * | `require` | as force, but the user confirms it on the registration page      | imported; missing/invalid ⇒ sign-in refused |
 * | `suggest` | registration page, pre-filled with the value (user may change it)| imported; editable on the registration page |
 * | `ignore`  | registration page, empty: the user picks                         | not imported                               |
 */
export const importAction = z.enum(['force', 'suggest', 'require', 'ignore']);
export type ImportAction = z.infer<typeof importAction>;

/** `always`: refreshed on every sign-in (set when present, never cleared); `first_login`: only when the account is created. */
export const syncPolicy = z.enum(['first_login', 'always']);
export type SyncPolicy = z.infer<typeof syncPolicy>;

/** A LiquidJS template over `user.*`, syntax-checked when the config is loaded (the error names the key). */
export const templateSource = z
  .string()
  .min(1)
  .max(TEMPLATE_LIMITS.maxSourceLength)
  .superRefine((source, ctx) => {
    const problem = templateProblem(source);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid template: ${problem}` });
  });

const profileClaim = z
  .object({
    /** Template over the upstream attributes, e.g. `{{ user.mail }}`. Default: per provider kind (README). */
    template: templateSource.optional(),
    action: importAction.default('force'),
    sync: syncPolicy.default('first_login'),
  })
  .strict();

const localpartClaim = z
  .object({
    /** Template giving the Matrix localpart, e.g. `{{ user.preferred_username | downcase }}`. */
    template: templateSource.optional(),
    action: importAction.default('force'),
    /** Only `first_login`: a Matrix user id never changes. Accepted so all four claims read alike. */
    sync: z
      .string()
      .refine((v) => v === 'first_login', { message: 'a localpart is chosen once, when the account is created: only first_login is possible' })
      .optional(),
  })
  .strict();

export const claimsSection = z
  .object({
    /** Template for the stable upstream identifier the account link uses. Default: the protocol's subject (OIDC `sub`, SAML NameID, CAS user). */
    subject: templateSource.optional(),
    localpart: localpartClaim.prefault({}),
    displayname: profileClaim.prefault({}),
    email: profileClaim.prefault({}),
  })
  .strict();
export type ClaimsConfig = z.infer<typeof claimsSection>;

/**
 * A condition an upstream identity must meet, checked before any account is created or used.
 * Exactly one rule; values compare exactly (case-sensitive). A missing attribute fails every rule.
 */
export const attributeRequirement = z
  .object({
    /** Attribute name as the connector reports it (OIDC claim, SAML attribute name or friendly name, CAS attribute). */
    attribute: z.string().min(1),
    /** The attribute has exactly one value, and it is this one. */
    equals: z.string().optional(),
    /** The attribute has a value (any of its values) among these. */
    one_of: z.array(z.string()).min(1).optional(),
    /** One of the attribute's values is this one (multi-valued attributes such as groups). */
    contains: z.string().optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const n = [o.equals, o.one_of, o.contains].filter((v) => v !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of equals, one_of, contains' });
  });
export type AttributeRequirement = z.infer<typeof attributeRequirement>;
