import { z } from 'zod';

/** A regular expression from the config, compiled once when the config loads (a bad one names its key). */
const regexSource = z
  .string()
  .min(1)
  .max(1000)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, 'u');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
    }
  });

/** A localpart rule: a regex, or `{ regex, name }` where `name` is what the refusal page shows. Not anchored: use ^ and $. */
const localpartRule = z.union([
  regexSource.describe('A regular expression (JavaScript, Unicode mode; not anchored: write ^ and $).'),
  z
    .object({
      regex: regexSource.describe('A regular expression (JavaScript, Unicode mode; not anchored: write ^ and $).'),
      name: z.string().min(1).max(100).describe('What a refusal page calls the rule (e.g. "first.last"); the key is added.'),
    })
    .strict()
    .describe('A regular expression with the name a refusal page shows.'),
]);

/** `example.com` (that domain exactly) or `*.example.com` (its subdomains, not itself); case-insensitive. */
const emailDomain = z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, 'expected a domain such as example.com or *.example.com');

/** A scope token, or a prefix ending in `*` (`urn:matrix:client:*`); `urn:synapse:admin:*` matches that scope. */
const scopePattern = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected a scope token or a prefix ending in *');

/** A host of client_uri (`app.example.com`, `*.example.com` for subdomains) or an exact client_id. */
const registrationAllowEntry = z.string().min(1).max(255);

export const policySection = z
  .object({
    allow_insecure_uris: z.boolean().default(false).describe('dev_mode only: accept http (not https) client and redirect URIs on loopback hosts in client registration.'),
    admin_localparts: z.array(z.string()).default([]).describe('Localparts that may be granted `urn:synapse:admin:*` (Synapse admin) in interactive sign-ins.'),
    reserved_localparts: z.array(z.string()).default([]).describe('Localparts no one may register, besides the built-in reserved ones.'),
    localpart_allow: z.array(localpartRule).default([]).describe("New accounts' localparts (forced ones included) must match at least one of these regexes, when any is given. A refusal names the rule."),
    localpart_deny: z.array(localpartRule).default([]).describe("New accounts' localparts (forced ones included) must match none of these regexes. A refusal names the rule."),
    email_domains: z.array(emailDomain).default([]).describe('New accounts need an email address on one of these domains (`example.org`, or `*.example.org` for its subdomains), when any is given.'),
    client_registration: z
      .enum(['open', 'allow_list', 'closed'])
      .default('open')
      .describe('Dynamic client registration (MSC2966): `open`, only the clients of `client_registration_allow`, or `closed` (static clients only; no registration_endpoint in discovery).'),
    client_registration_allow: z
      .array(registrationAllowEntry)
      .default([])
      .describe('With `client_registration: allow_list`: hosts of `client_uri` (`*.host` for subdomains) or exact client_ids that may register and sign in.'),
    device_code_grant: z.boolean().default(true).describe('The device authorization grant (RFC 8628, `/oauth2/device`, sign-in by QR code). false: refused everywhere and not advertised in discovery.'),
    denied_scopes: z.array(scopePattern).default([]).describe('Scopes no client may be granted (scope tokens, or prefixes ending in `*`).'),
    dynamic_client_denied_scopes: z
      .array(scopePattern)
      .default(['urn:synapse:admin:*'])
      .describe('Scopes dynamically registered clients may not be granted; by default Synapse admin rights go to declared (static) clients only.'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.client_registration === 'allow_list' && p.client_registration_allow.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['client_registration_allow'], message: 'client_registration: allow_list needs at least one entry' });
    }
  })
  .describe('Policies for clients and accounts.');
export type PolicyConfig = z.infer<typeof policySection>;
