import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';
import { duration } from '../../config/duration.js';
import { resolveSecret, secretShape } from '../../config/secret-ref.js';

/** An upstream SAML 2.0 IdP (ADFS, Entra ID, Shibboleth, Okta, ...), spoken to with @node-saml/node-saml. */
export const samlProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('saml'),
    /** IdP metadata: exactly one of metadata_file, metadata_url or idp. */
    metadata_file: z.string().min(1).optional(),
    metadata_url: z.url().optional(),
    metadata_refresh: duration(60).default(3600),
    /** PEM certificate the metadata document must be signed with (pinning). */
    metadata_signing_cert_file: z.string().min(1).optional(),
    idp: z
      .object({
        entity_id: z.string().min(1),
        sso_url: z.url(),
        slo_url: z.url().optional(),
        /** PEM certificates (inline or file paths); several at once for key rollover. */
        certs: z.array(z.string().min(1)).min(1),
      })
      .strict()
      .optional(),
    sp: z
      .object({
        /** Defaults to {public_base}upstream/{id}/saml/metadata. */
        entity_id: z.string().min(1).optional(),
        ...secretShape('key'),
        cert_file: z.string().min(1).optional(),
        sign_requests: z.boolean().default(true),
      })
      .strict()
      .transform((o, ctx) => ({
        entity_id: o.entity_id,
        cert_file: o.cert_file,
        sign_requests: o.sign_requests,
        key: resolveSecret(o, 'key', ctx, { required: o.sign_requests, raw: true }),
      }))
      .prefault({}),
    name_id_format: z.string().default('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'),
    authn_context: z.array(z.string()).optional(),
    /** Which signature must be present and valid: `assertion`, `response`, `either` or `both`. Never neither. */
    signature: z.enum(['assertion', 'response', 'either', 'both']).default('assertion'),
    allow_idp_initiated: z.boolean().default(false),
    clock_skew: z.number().int().min(0).max(600).default(60),
    /** Test/dev only: allow http metadata URLs. */
    allow_insecure_http: z.boolean().default(false),
  })
  .strict()
  .transform((o, ctx) => {
    const sources = [o.metadata_file, o.metadata_url, o.idp].filter((v) => v !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of metadata_file, metadata_url, idp' });
    return o;
  });
export type SamlProviderConfig = z.infer<typeof samlProviderSchema>;
