import { z } from 'zod';

/** How an imported attribute is used: MAS's ImportAction. */
export const importAction = z.enum(['force', 'suggest', 'require', 'ignore']);
export type ImportAction = z.infer<typeof importAction>;
export const syncPolicy = z.enum(['first_login', 'always']);

const attributeClaim = (defaultAction: ImportAction) =>
  z
    .object({
      /** Template over the upstream attributes, e.g. `{{ user.mail }}` (LiquidJS syntax). */
      template: z.string().min(1).optional(),
      action: importAction.default(defaultAction),
      /** `always` refreshes the value on every login; `first_login` only when the account is created. */
      sync: syncPolicy.default('first_login'),
    })
    .strict();

export const claimsSection = z
  .object({
    /** Stable upstream identifier of the user; defaults per kind (OIDC `sub`, SAML persistent NameID, CAS user). */
    subject: z.string().min(1).optional(),
    localpart: attributeClaim('force').default({ action: 'force', sync: 'first_login' }),
    displayname: attributeClaim('force').default({ action: 'force', sync: 'first_login' }),
    email: attributeClaim('force').default({ action: 'force', sync: 'first_login' }),
  })
  .strict();
export type ClaimsConfig = z.infer<typeof claimsSection>;

/** A condition an upstream identity must meet before any account is created or used. */
export const attributeRequirement = z
  .object({
    attribute: z.string().min(1),
    /** The (single) value must equal this. */
    equals: z.string().optional(),
    /** The value (or one of the values) must be one of these. */
    one_of: z.array(z.string()).min(1).optional(),
    /** The multi-valued attribute must contain this value. */
    contains: z.string().optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const n = [o.equals, o.one_of, o.contains].filter((v) => v !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of equals, one_of, contains' });
  });
export type AttributeRequirement = z.infer<typeof attributeRequirement>;
