import { z } from 'zod';
import { decodeJwt } from 'jose';

/**
 * Multi-tenant OpenID Providers (Microsoft Entra ID's `common` / `organizations` / `consumers`
 * endpoints): one discovery document for every tenant, whose `issuer` is a template
 * (`https://login.microsoftonline.com/{tenantid}/v2.0`), and ID tokens whose `iss` names the
 * tenant that signed the person in (the `tid` claim). A token is checked against the template
 * filled with its own `tid`, and only tenants on the allow-list may sign in.
 */

/** Entra tenant ids are GUIDs; anything else in `tid` is refused before it reaches an issuer string. */
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const multiTenantSchema = z
  .object({
    issuer_template: z
      .string()
      .refine((s) => s.split('{tid}').length === 2, { message: 'must contain {tid} exactly once' })
      .refine((s) => URL.canParse(s.replace('{tid}', '00000000-0000-0000-0000-000000000000')), { message: 'must be a URL once {tid} is filled in' })
      .default('https://login.microsoftonline.com/{tid}/v2.0')
      .describe(
        "The issuer of one tenant, `{tid}` standing for its tenant id: each ID token's `iss` must equal it filled with the token's `tid`. The discovered issuer must be this template with Entra's `{tenantid}` placeholder. Another cloud: e.g. `https://login.microsoftonline.us/{tid}/v2.0`.",
      ),
    tenants: z
      .array(
        z
          .string()
          .transform((s) => s.toLowerCase())
          .pipe(z.string().regex(TENANT_ID, 'expected a tenant id (GUID)')),
      )
      .min(1)
      .describe('Tenant ids (GUIDs) whose people may sign in; a token of any other tenant is refused with an error page (audited as `tenant_not_allowed`).'),
  })
  .strict()
  .describe(
    'A multi-tenant application (Entra ID `common` / `organizations`): `issuer` is the shared endpoint (e.g. `https://login.microsoftonline.com/organizations/v2.0`), and tokens are checked against the issuer of their own tenant.',
  );

/** The issuer of tenant `tid`. */
export function tenantIssuer(template: string, tid: string): string {
  return template.replace('{tid}', tid);
}

/** Whether a discovery document's issuer is this template (Entra writes the placeholder as `{tenantid}`). */
export function isTemplateIssuer(template: string, discovered: string): boolean {
  return discovered === template.replace('{tid}', '{tenantid}');
}

export type TenantCheck = { ok: true; tid: string } | { ok: false; reason: 'no_tid' | 'not_allowed'; tid?: string };

/**
 * The tenant a token response is for, read from its ID token before verification: it only selects
 * the issuer the token is then verified against (signature, `iss` = the template with this `tid`,
 * audience, nonce, times), so a forged `tid` can only make verification fail.
 */
export function tenantOfIdToken(idToken: unknown, allowed: readonly string[]): TenantCheck {
  let tid: unknown;
  try {
    tid = typeof idToken === 'string' ? decodeJwt(idToken).tid : undefined;
  } catch {
    tid = undefined;
  }
  if (typeof tid !== 'string' || !TENANT_ID.test(tid)) return { ok: false, reason: 'no_tid' };
  return allowed.includes(tid) ? { ok: true, tid } : { ok: false, reason: 'not_allowed', tid };
}

/** The discovery URL of a multi-tenant issuer (read directly: its issuer is the template, not this URL). */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
}
