import { existsSync, readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';
import { duration } from '../../config/duration.js';
import { resolveSecret, secretShape } from '../../config/secret-ref.js';
import { keyMatchesCertificate, parseCertificate } from './saml-certs.js';

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

/** `NAME` (PEM text), `NAME_file` (path) or `NAME_env` (variable holding PEM): a public certificate, so inline is fine outside dev_mode. */
function certificateShape<N extends string>(name: N) {
  return {
    [name]: z.string().min(1).optional(),
    [`${name}_file`]: z.string().min(1).optional(),
    [`${name}_env`]: z.string().min(1).optional(),
  } as { [K in N | `${N}_file` | `${N}_env`]: z.ZodOptional<z.ZodString> };
}

function resolveCertificate(obj: Record<string, unknown>, name: string, prefix: (string | number)[], ctx: z.RefinementCtx, required: string | false): string | undefined {
  const given = [name, `${name}_file`, `${name}_env`].filter((k) => obj[k] !== undefined);
  if (given.length > 1) {
    ctx.addIssue({ code: 'custom', path: [...prefix, given[1]!], message: `give only one of ${given.join(', ')}` });
    return undefined;
  }
  if (given.length === 0) {
    if (required) ctx.addIssue({ code: 'custom', path: [...prefix, name], message: `required (as ${name}, ${name}_file or ${name}_env): ${required}` });
    return undefined;
  }
  const key = given[0]!;
  const ref = obj[key] as string;
  let text = ref;
  if (key.endsWith('_env')) {
    const v = process.env[ref];
    if (!v) {
      ctx.addIssue({ code: 'custom', path: [...prefix, key], message: `environment variable ${ref} is not set` });
      return undefined;
    }
    text = v;
  } else if (key.endsWith('_file')) {
    try {
      text = readFileSync(ref, 'utf8');
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: [...prefix, key], message: `cannot read ${ref}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return undefined;
    }
  }
  try {
    return parseCertificate(text).pem;
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: [...prefix, key], message: (e as Error).message });
    return undefined;
  }
}

const idpSection = z
  .object({
    /** The IdP's entity ID (the Issuer of its responses). */
    entity_id: z.string().min(1),
    /** SingleSignOnService location. */
    sso_url: z.url(),
    /** Binding of `sso_url`: `redirect` (HTTP-Redirect, default) or `post` (HTTP-POST). */
    sso_binding: z.enum(['redirect', 'post']).default('redirect'),
    /** SingleLogoutService location (HTTP-Redirect); without it Single Logout is off. */
    slo_url: z.url().optional(),
    /** Where LogoutResponses go, when the IdP wants them elsewhere than `slo_url`. */
    slo_response_url: z.url().optional(),
    /** Signing certificates (PEM text or file paths); several at once during a key rollover. */
    certs: z.array(z.string().min(1)).min(1),
  })
  .strict();

const spSection = z
  .object({
    /** SP entity ID. Defaults to the metadata URL, {public_base}upstream/{id}/saml/metadata. */
    entity_id: z.string().min(1).optional(),
    /** SP private key (PEM): signs AuthnRequests and logout messages, decrypts assertions. */
    ...secretShape('key'),
    /** SP certificate matching `key` (PEM as cert, cert_file or cert_env); published in the SP metadata. */
    ...certificateShape('cert'),
    /** Sign AuthnRequests (logout messages are always signed). */
    sign_requests: z.boolean().default(true),
    signature_algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
    /**
     * Encrypted assertions: `optional` publishes an encryption certificate and accepts both,
     * `required` refuses clear-text assertions, `off` publishes none and refuses encrypted ones.
     */
    encrypted_assertions: z.enum(['optional', 'required', 'off']).default('optional'),
  })
  .strict();

/** An upstream SAML 2.0 IdP (ADFS, Entra ID, Shibboleth, Okta, SimpleSAMLphp...), spoken to with @node-saml/node-saml. */
export const samlProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('saml'),
    /** IdP metadata: exactly one of metadata_url, metadata_file or idp. */
    metadata_url: z.url().optional(),
    metadata_file: z.string().min(1).optional(),
    /** How often metadata_url is fetched again (metadata_file re-read); the last good copy is kept when it fails. */
    metadata_refresh: duration(5).default(3600),
    /** Certificate the metadata must be signed with (PEM as metadata_signing_cert, _file or _env). Unsigned or badly signed metadata is then refused. */
    ...certificateShape('metadata_signing_cert'),
    metadata_timeout_ms: z.number().int().min(100).max(60000).default(10000),
    /** Which entity to use when the metadata holds several (a federation aggregate); also checked when given. */
    idp_entity_id: z.string().min(1).optional(),
    /** The IdP declared inline instead of by metadata. */
    idp: idpSection.optional(),
    sp: spSection,
    /** NameIDPolicy Format asked of the IdP (a URI or one of persistent|transient|emailAddress|unspecified). */
    name_id_format: z.string().min(1).default('persistent'),
    /** NameIDPolicy AllowCreate. */
    allow_create: z.boolean().default(true),
    /** RequestedAuthnContext class references (none: the element is left out). */
    authn_context: z.array(z.string().min(1)).default([]),
    authn_context_comparison: z.enum(['exact', 'minimum', 'maximum', 'better']).default('exact'),
    /** Which signature must be present and valid: `assertion`, `response`, `either` or `both`. Never neither. */
    signature: z.enum(['assertion', 'response', 'either', 'both']).default('assertion'),
    /** Accept RSA-SHA1 signatures (old ADFS relying-party trusts). Off by default. */
    allow_sha1: z.boolean().default(false),
    /** Accept responses no login asked for (IdP-initiated SSO). Off: every response must answer our AuthnRequest. */
    allow_idp_initiated: z.boolean().default(false),
    /** Allowed clock difference with the IdP, in seconds. */
    clock_skew: z.number().int().min(0).max(600).default(60),
    /** Refuse assertions issued longer ago than this (seconds), whatever their NotOnOrAfter says. */
    max_assertion_age: duration(1).optional(),
    /** Largest SAML message accepted (decoded bytes). */
    max_message_size: z.number().int().min(4096).max(4 * 1024 * 1024).default(256 * 1024),
    /** Single Logout both ways (when the IdP has a SingleLogoutService). */
    single_logout: z.boolean().default(true),
    /** Query parameter that carries the OAuth `login_hint` to the IdP (`login_hint` for Entra ID, `username` for ADFS). */
    login_hint_parameter: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
    /** Extra template names for attributes: `alias: attribute Name` (e.g. `employee: "http://schemas.example.com/claims/employeeid"`). */
    attribute_aliases: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'aliases are plain names (letters, digits, _)'), z.string().min(1)).default({}),
    /** Test/dev only: allow an http metadata URL. */
    allow_insecure_http: z.boolean().default(false),
  })
  .strict()
  .transform((o, ctx) => {
    const sources = [o.metadata_file, o.metadata_url, o.idp].filter((v) => v !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of metadata_url, metadata_file, idp' });
    if (o.metadata_url && !o.allow_insecure_http && !o.metadata_url.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['metadata_url'], message: 'must be https (allow_insecure_http is for tests only)' });
    }
    if (o.metadata_file && !existsSync(o.metadata_file)) {
      ctx.addIssue({ code: 'custom', path: ['metadata_file'], message: `cannot read ${o.metadata_file}: ENOENT` });
    }
    const pinned = [o.metadata_signing_cert, o.metadata_signing_cert_file, o.metadata_signing_cert_env].some((v) => v !== undefined);
    if (pinned && o.idp) ctx.addIssue({ code: 'custom', path: ['metadata_signing_cert'], message: 'only with metadata_url or metadata_file' });
    const metadataSigningCert = resolveCertificate(o, 'metadata_signing_cert', [], ctx, false);

    const idp = o.idp ? { ...o.idp, certs: o.idp.certs.map((c, i) => loadCertificate(c, ['idp', 'certs', i], ctx)).filter((c): c is string => !!c) } : undefined;

    const sp = o.sp;
    const key = resolveSecret(sp as Record<string, unknown>, 'key', ctxAt(ctx, ['sp']), { required: true, raw: true });
    const cert = resolveCertificate(sp, 'cert', ['sp'], ctx, 'the SP certificate matching sp.key');
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
  });
export type SamlProviderConfig = z.infer<typeof samlProviderSchema>;

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
