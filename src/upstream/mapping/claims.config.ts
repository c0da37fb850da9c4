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

const profileClaim = (what: string) =>
  z
    .object({
      template: templateSource.optional().describe(`Template over the upstream attributes giving the ${what}, e.g. \`{{ user.mail }}\`; the default depends on the provider kind.`),
      action: importAction.default('force').describe('`force`: imported when present; `require`: the sign-in is refused without a valid value; `suggest`: editable on the registration page; `ignore`: not imported.'),
      sync: syncPolicy.default('first_login').describe('`first_login`: set when the account is created; `always`: refreshed at every sign-in (set when present, never cleared).'),
    })
    .strict()
    .describe(`How the ${what} is imported.`);

const localpartClaim = z
  .object({
    template: templateSource.optional().describe('Template giving the Matrix localpart, e.g. `{{ user.preferred_username | downcase }}`; the default depends on the provider kind.'),
    action: importAction
      .default('force')
      .describe('`force`: the value is the username (missing or invalid: refused); `require`: the same, confirmed on the registration page; `suggest`: pre-filled and editable; `ignore`: the person picks.'),
    sync: z
      .string()
      .refine((v) => v === 'first_login', { message: 'a localpart is chosen once, when the account is created: only first_login is possible' })
      .optional()
      .describe('Only `first_login`: a Matrix user id never changes (accepted so the four claims read alike).'),
  })
  .strict()
  .describe('How the Matrix localpart (the `alice` of `@alice:example.com`) is chosen for a new account.');

/** An avatar: a picture URL (OIDC `picture`) or a base64 photo attribute (LDAP `jpegPhoto`, AD `thumbnailPhoto`). */
const avatarClaim = z
  .object({
    template: templateSource.optional().describe('Template giving the avatar: an https URL (e.g. `{{ user.picture }}`) or a base64 image (e.g. `{{ user.jpegPhoto }}`). Unset: no avatar is imported.'),
    sync: syncPolicy.default('first_login').describe('`first_login`: set when the account is created; `always`: set again at every sign-in that brings one.'),
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('Largest image accepted, in bytes (default 1 MiB); a larger one is skipped (logged, the sign-in goes on).'),
    timeout_ms: z.number().int().min(100).max(60_000).default(5000).describe('Timeout of fetching an avatar URL, in milliseconds.'),
  })
  .strict()
  .describe(
    "The avatar, uploaded to the homeserver's media repository as the user and set on their profile, after the sign-in (through the event bus): PNG, JPEG, GIF or WebP (checked by their first bytes); https only and no private or loopback addresses outside dev_mode; no redirects to plain http. A failure is logged and counted, never blocks a sign-in.",
  );

export const claimsSection = z
  .object({
    subject: templateSource.optional().describe("Template for the stable upstream identifier that accounts are linked by; default: the protocol's subject (OIDC `sub`, SAML NameID, CAS user)."),
    localpart: localpartClaim.prefault({}),
    displayname: profileClaim('display name').prefault({}),
    email: profileClaim('email address').prefault({}),
    avatar: avatarClaim.prefault({}),
  })
  .strict()
  .describe('How the IdP\'s attributes become the account: LiquidJS templates over `user.*`, e.g. `{{ user.mail | split: "@" | first }}`.');
export type ClaimsConfig = z.infer<typeof claimsSection>;

/**
 * A condition an upstream identity must meet, checked before any account is created or used.
 * Exactly one rule; values compare exactly (case-sensitive). A missing attribute fails every rule.
 */
export const attributeRequirement = z
  .object({
    attribute: z.string().min(1).describe('Attribute name as the IdP sends it (OIDC claim, SAML attribute name or friendly name, CAS attribute).'),
    equals: z.string().optional().describe('The attribute has exactly one value, and it is this one.'),
    one_of: z.array(z.string()).min(1).optional().describe('The attribute has a value among these.'),
    contains: z.string().optional().describe("One of the attribute's values is this one (multi-valued attributes such as groups)."),
  })
  .strict()
  .superRefine((o, ctx) => {
    const n = [o.equals, o.one_of, o.contains].filter((v) => v !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of equals, one_of, contains' });
  })
  .describe('One condition: `attribute` with exactly one of `equals`, `one_of`, `contains` (exact, case-sensitive; a missing attribute fails).');
export type AttributeRequirement = z.infer<typeof attributeRequirement>;
