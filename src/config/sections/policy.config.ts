import { z } from 'zod';

/** A regular expression from the config, compiled once when the config loads (a bad one names its key). */
const regexSource = z.string().min(1).max(1000).superRefine((source, ctx) => {
  try {
    new RegExp(source, 'u');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
  }
});

/** A localpart rule: a regex, or `{ regex, name }` where `name` is what the refusal page shows. Not anchored: use ^ and $. */
const localpartRule = z.union([regexSource, z.object({ regex: regexSource, name: z.string().min(1).max(100) }).strict()]);

/** `example.com` (that domain exactly) or `*.example.com` (its subdomains, not itself); case-insensitive. */
const emailDomain = z
  .string()
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, 'expected a domain such as example.com or *.example.com');

/** A scope token, or a prefix ending in `*` (`urn:matrix:client:*`); `urn:synapse:admin:*` matches that scope. */
const scopePattern = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected a scope token or a prefix ending in *');

/** A host of client_uri (`app.example.com`, `*.example.com` for subdomains) or an exact client_id. */
const registrationAllowEntry = z.string().min(1).max(255);

export const policySection = z
  .object({
    /** Dev/test switch: allow http (not https) client and redirect URIs on loopback hosts in DCR. */
    allow_insecure_uris: z.boolean().default(false),
    /** Localparts that may be granted `urn:synapse:admin:*` in interactive logins. */
    admin_localparts: z.array(z.string()).default([]),
    /** Localparts no one may register (in addition to built-in reserved ones). */
    reserved_localparts: z.array(z.string()).default([]),
    /** New accounts' localparts must match at least one of these (when any is given). Forced localparts too. */
    localpart_allow: z.array(localpartRule).default([]),
    /** New accounts' localparts must match none of these. Forced localparts too. */
    localpart_deny: z.array(localpartRule).default([]),
    /** New accounts need an email address on one of these domains (when any is given). */
    email_domains: z.array(emailDomain).default([]),
    /** Dynamic client registration (MSC2966): `open`, only `allow_list`ed clients, or `closed` (static clients only). */
    client_registration: z.enum(['open', 'allow_list', 'closed']).default('open'),
    /** With `client_registration: allow_list`: hosts of `client_uri` or exact client_ids that may register and sign in. */
    client_registration_allow: z.array(registrationAllowEntry).default([]),
    /** The device authorization grant (RFC 8628, `/oauth2/device`, QR-code sign-in). Off: refused and not advertised. */
    device_code_grant: z.boolean().default(true),
    /** Scopes no client may be granted. */
    denied_scopes: z.array(scopePattern).default([]),
    /** Scopes dynamically registered clients may not be granted (default: server-admin rights go to declared clients only). */
    dynamic_client_denied_scopes: z.array(scopePattern).default(['urn:synapse:admin:*']),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.client_registration === 'allow_list' && p.client_registration_allow.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['client_registration_allow'], message: 'client_registration: allow_list needs at least one entry' });
    }
  });
export type PolicyConfig = z.infer<typeof policySection>;
