import { existsSync, readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';
import { duration } from '../../config/duration.js';
import { givenKey, publicValueShape, resolveSecret, secretShape } from '../../config/secret-ref.js';
import { keyMatchesCertificate, parseCertificate } from './saml-certs.js';
import { federationSection } from './federation/federation.config.js';

export const NAMEID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

/**
 * A certificate given in the YAML: PEM text, bare base64 (as in metadata) or a file path.
 * Resolved and parsed while the config loads so `causeway config check` reports a bad one.
 */
function loadCertificate(value: string, path: (string | number)[], ctx: z.RefinementCtx): string | undefined {
  let text = value;
  if (!value.includes('-----BEGIN') && !/^[A-Za-z0-9+/=\s]{200,}$/.test(value)) {
    if (!existsSync(value)) {
      ctx.addIssue({ code: 'custom', path, message: `cannot read ${value}: ENOENT (give a PEM certificate or the path of one)` });
      return undefined;
    }
    text = readFileSync(value, 'utf8');
  }
  try {
    return parseCertificate(text).pem;
  } catch (e) {
    ctx.addIssue({ code: 'custom', path, message: `${(e as Error).message}` });
    return undefined;
  }
}

/**
 * A certificate given as `NAME` (PEM text), `NAME_file` or `NAME_env` (secret-ref.ts reads the
 * reference), parsed while the config loads; problems are reported on the key that gave it.
 */
function resolveCertificate(obj: Record<string, unknown>, name: string, ctx: z.RefinementCtx, required: string | false): string | undefined {
  const text = resolveSecret(obj, name, ctx, { public: true, raw: true, required });
  if (text === undefined) return undefined;
  try {
    return parseCertificate(text).pem;
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: [givenKey(obj, name)], message: (e as Error).message });
    return undefined;
  }
}

const idpSection = z
  .object({
    entity_id: z.string().min(1).describe("The IdP's entity ID (the Issuer of its responses)."),
    sso_url: z.url().describe("The IdP's SingleSignOnService location."),
    sso_binding: z.enum(['redirect', 'post']).default('redirect').describe('Binding of `sso_url`: `redirect` (HTTP-Redirect) or `post` (HTTP-POST).'),
    slo_url: z.url().optional().describe("The IdP's SingleLogoutService location (HTTP-Redirect); without it Single Logout is off."),
    slo_response_url: z.url().optional().describe('Where LogoutResponses go, when the IdP wants them elsewhere than `slo_url`.'),
    certs: z.array(z.string().min(1)).min(1).describe("The IdP's signing certificates (PEM text or file paths); several during a key rollover."),
  })
  .strict()
  .describe('The IdP declared here instead of by metadata.');

const spSection = z
  .object({
    entity_id: z.string().min(1).optional().describe("Causeway's SP entity ID; default: its metadata URL, `<public_base>upstream/<id>/saml/metadata`."),
    ...secretShape('key', 'The SP private key (PEM): signs AuthnRequests and logout messages, decrypts assertions.'),
    ...publicValueShape('cert', 'The SP certificate matching `key`, published in the SP metadata.'),
    sign_requests: z.boolean().default(true).describe('Sign AuthnRequests (logout messages are always signed).'),
    signature_algorithm: z.enum(['sha256', 'sha512']).default('sha256').describe('Digest of the RSA signatures Causeway makes.'),
    encrypted_assertions: z
      .enum(['optional', 'required', 'off'])
      .default('optional')
      .describe('`optional`: an encryption certificate is published and both kinds accepted; `required`: clear-text assertions are refused; `off`: none published, encrypted ones refused.'),
  })
  .strict()
  .describe('Causeway as a SAML service provider: its entity ID, key and certificate.');

/** An upstream SAML 2.0 IdP (ADFS, Entra ID, Shibboleth, Okta, SimpleSAMLphp...), spoken to with @node-saml/node-saml. */
export const samlProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('saml').describe('A SAML 2.0 identity provider (ADFS, Entra ID, Shibboleth, Okta, SimpleSAMLphp, …).'),
    metadata_url: z.url().optional().describe("URL of the IdP's metadata (https). Give exactly one of `metadata_url`, `metadata_file`, `idp`."),
    metadata_file: z.string().min(1).optional().describe("Path of a file holding the IdP's metadata."),
    metadata_refresh: duration(5).default(3600).describe('How often the metadata is fetched (or the file read) again; a failed refresh keeps the last good copy.'),
    ...publicValueShape('metadata_signing_cert', 'Certificate the metadata must be signed with; unsigned or badly signed metadata is then refused.'),
    metadata_timeout_ms: z.number().int().min(100).max(60000).default(10000).describe('Timeout of a metadata download, in milliseconds.'),
    idp_entity_id: z.string().min(1).optional().describe('The entity to use when the metadata holds several (a federation aggregate); checked against the metadata when given.'),
    idp: idpSection.optional(),
    federation: federationSection.optional(),
    sp: spSection,
    name_id_format: z.string().min(1).default('persistent').describe('NameID format asked of the IdP: `persistent`, `transient`, `emailAddress`, `unspecified` or a URI.'),
    allow_create: z.boolean().default(true).describe('NameIDPolicy AllowCreate: the IdP may create a new identifier for Causeway.'),
    authn_context: z.array(z.string().min(1)).default([]).describe('RequestedAuthnContext class references, e.g. for multi-factor; none: the element is left out.'),
    authn_context_comparison: z.enum(['exact', 'minimum', 'maximum', 'better']).default('exact').describe('Comparison of the RequestedAuthnContext.'),
    signature: z.enum(['assertion', 'response', 'either', 'both']).default('assertion').describe('Which signature must be present and valid: on the `assertion`, the `response`, `either` or `both` (never neither).'),
    allow_sha1: z.boolean().default(false).describe('Accept RSA-SHA1 signatures (old ADFS relying-party trusts).'),
    allow_idp_initiated: z.boolean().default(false).describe("Accept responses no sign-in asked for (IdP-initiated SSO); off: every response must answer one of Causeway's AuthnRequests."),
    clock_skew: z.number().int().min(0).max(600).default(60).describe('Allowed clock difference with the IdP, in seconds.'),
    max_assertion_age: duration(1).optional().describe('Refuse assertions issued longer ago than this, whatever their NotOnOrAfter says (a duration).'),
    max_message_size: z
      .number()
      .int()
      .min(4096)
      .max(4 * 1024 * 1024)
      .default(256 * 1024)
      .describe('Largest SAML message accepted, in decoded bytes.'),
    single_logout: z.boolean().default(true).describe('Single Logout both ways, when the IdP has a SingleLogoutService.'),
    login_hint_parameter: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional()
      .describe('Query parameter that carries the OAuth `login_hint` to the IdP (`login_hint` for Entra ID, `username` for ADFS).'),
    attribute_aliases: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'aliases are plain names (letters, digits, _)'), z.string().min(1))
      .default({})
      .describe('Extra names for attributes in templates, `alias: attribute Name` (e.g. `employee: "http://schemas.example.com/claims/employeeid"`).'),
    allow_insecure_http: z.boolean().default(false).describe('dev_mode only: allow an http metadata URL.'),
  })
  .strict()
  .transform((o, ctx) => {
    const sources = [o.metadata_file, o.metadata_url, o.idp, o.federation].filter((v) => v !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of metadata_url, metadata_file, idp, federation' });
    const federation = o.federation ? checkFederation(o.federation, o, ctxAt(ctx, ['federation'])) : undefined;
    if (o.metadata_url && !o.allow_insecure_http && !o.metadata_url.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['metadata_url'], message: 'must be https (allow_insecure_http is for tests only)' });
    }
    if (o.metadata_file && !existsSync(o.metadata_file)) {
      ctx.addIssue({ code: 'custom', path: ['metadata_file'], message: `cannot read ${o.metadata_file}: ENOENT` });
    }
    const pinned = [o.metadata_signing_cert, o.metadata_signing_cert_file, o.metadata_signing_cert_env].some((v) => v !== undefined);
    if (pinned && o.idp) ctx.addIssue({ code: 'custom', path: ['metadata_signing_cert'], message: 'only with metadata_url or metadata_file' });
    const metadataSigningCert = resolveCertificate(o, 'metadata_signing_cert', ctx, false);

    const idp = o.idp ? { ...o.idp, certs: o.idp.certs.map((c, i) => loadCertificate(c, ['idp', 'certs', i], ctx)).filter((c): c is string => !!c) } : undefined;

    const sp = o.sp;
    const key = resolveSecret(sp as Record<string, unknown>, 'key', ctxAt(ctx, ['sp']), { required: true, raw: true });
    const cert = resolveCertificate(sp, 'cert', ctxAt(ctx, ['sp']), 'the SP certificate matching sp.key');
    if (key) {
      try {
        createPrivateKey(key);
        if (cert && !keyMatchesCertificate(key, cert)) ctx.addIssue({ code: 'custom', path: ['sp', 'cert'], message: 'does not match sp.key' });
      } catch {
        ctx.addIssue({ code: 'custom', path: ['sp', 'key'], message: 'not a valid PEM private key' });
      }
    }

    const { metadata_signing_cert: _a, metadata_signing_cert_file: _b, metadata_signing_cert_env: _c, ...rest } = o;
    return {
      ...rest,
      idp,
      federation,
      // Single Logout is per IdP and needs the session's IdP; a federation provider does not offer it yet.
      single_logout: federation ? false : o.single_logout,
      metadata_signing_cert: metadataSigningCert,
      name_id_format: NAMEID_FORMATS[o.name_id_format as keyof typeof NAMEID_FORMATS] ?? o.name_id_format,
      sp: {
        entity_id: sp.entity_id,
        key: key ?? '',
        cert: cert ?? '',
        sign_requests: sp.sign_requests,
        signature_algorithm: sp.signature_algorithm,
        encrypted_assertions: sp.encrypted_assertions,
      },
    };
  })
  .describe('An upstream SAML 2.0 identity provider.');
export type SamlProviderConfig = z.infer<typeof samlProviderSchema>;

/** A federation's sources, certificate and the options it rules out. */
function checkFederation(
  f: z.output<typeof federationSection>,
  o: { allow_insecure_http: boolean; allow_idp_initiated: boolean; idp_entity_id?: string; metadata_signing_cert?: string; metadata_signing_cert_file?: string; metadata_signing_cert_env?: string },
  ctx: z.RefinementCtx,
) {
  if ((f.metadata_url === undefined) === (f.metadata_file === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of metadata_url, metadata_file' });
  for (const key of ['metadata_url', 'mdq_url', 'discovery_url'] as const) {
    const u = f[key];
    if (u && !o.allow_insecure_http && !u.startsWith('https://')) ctx.addIssue({ code: 'custom', path: [key], message: 'must be https (allow_insecure_http is for tests only)' });
  }
  if (f.metadata_file && !existsSync(f.metadata_file)) ctx.addIssue({ code: 'custom', path: ['metadata_file'], message: `cannot read ${f.metadata_file}: ENOENT` });
  if (o.allow_idp_initiated) ctx.addIssue({ code: 'custom', path: [], message: 'allow_idp_initiated is not available with a federation (every response must answer a request to the chosen IdP)' });
  if (o.idp_entity_id) ctx.addIssue({ code: 'custom', path: [], message: 'idp_entity_id is not used with a federation (use entity_filter.entity_ids)' });
  if ([o.metadata_signing_cert, o.metadata_signing_cert_file, o.metadata_signing_cert_env].some((v) => v !== undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'use federation.signing_cert instead of metadata_signing_cert' });
  }
  const signingCert = resolveCertificate(f, 'signing_cert', ctx, "the federation's metadata signing certificate");
  const { signing_cert: _a, signing_cert_file: _b, signing_cert_env: _c, ...rest } = f;
  return { ...rest, signing_cert: signingCert ?? '' };
}

/** A refinement context whose issues land under `prefix` (for helpers that report relative paths). */
function ctxAt(ctx: z.RefinementCtx, prefix: (string | number)[]): z.RefinementCtx {
  return {
    ...ctx,
    addIssue: (issue: Parameters<z.RefinementCtx['addIssue']>[0]) => {
      if (typeof issue === 'string') return ctx.addIssue(issue);
      ctx.addIssue({ ...issue, path: [...prefix, ...((issue as { path?: (string | number)[] }).path ?? [])] } as never);
    },
  } as z.RefinementCtx;
}
