import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';
import { resolveSecret, secretShape } from '../../config/secret-ref.js';
import { authorizationParamsSchema, RESERVED_OAUTH_PARAMS } from '../authorization-params.js';
import { SECRET_METHODS } from '../oauth-client/client-auth.js';

/** A dotted path into a JSON document (`id`, `data.user.id`); each segment a plain key or an array index. */
const jsonPath = z.string().regex(/^[A-Za-z0-9_$@:-]+(\.[A-Za-z0-9_$@:-]+){0,7}$/, 'expected a dotted path such as id or data.user.id');

/** HTTP headers sent with the API calls (names checked; values plain text). */
const headers = z
  .record(
    z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected a header name'),
    z
      .string()
      .max(1024)
      .regex(/^[\x20-\x7e]*$/, 'expected printable ASCII'),
  )
  .superRefine((h, ctx) => {
    for (const k of Object.keys(h)) {
      if (['authorization', 'host', 'content-length', 'cookie'].includes(k.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: [k], message: 'set by Causeway itself; cannot be overridden' });
      }
    }
  })
  .default({})
  .describe('HTTP headers of the call (not Authorization, Host, Cookie or Content-Length).');

/**
 * One attribute read from an extra API call: the values at `value` (a dotted path) of every item
 * of the answer (an array, or one object), optionally only of the items whose fields equal `where`
 * (compared as text: `true`, `42`). Always a list of strings (`{{ user.orgs | join: "," }}`,
 * `{{ user.verified_email | first }}`).
 */
const extractedAttribute = z
  .object({
    value: jsonPath.describe('Where the value is in each item of the answer (a dotted path, e.g. `email` or `team.slug`).'),
    where: z
      .record(jsonPath, z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('Only the items whose fields equal these values (compared as text), e.g. `{primary: true, verified: true}`.'),
  })
  .strict()
  .describe('An attribute read from the answer: always a list of strings.');

const attributeName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'attribute names are plain names (letters, digits, _)');

/** An extra call made with the user's access token after the userinfo call (e.g. GitHub's /user/emails, /user/orgs). */
const extraRequest = z
  .object({
    url: z.url().describe("The API called with the user's access token (GET)."),
    headers,
    attributes: z
      .record(attributeName, extractedAttribute)
      .refine((a) => Object.keys(a).length > 0, 'name at least one attribute')
      .describe('Attributes read from the answer, available to templates and requirements as `user.<name>`.'),
    optional: z.boolean().default(false).describe('A failed call leaves its attributes empty instead of failing the sign-in.'),
  })
  .strict()
  .describe('An extra API call after userinfo.');

/**
 * An OAuth 2.0 provider without OpenID Connect (GitHub, GitLab's API, Discord, …): authorization code
 * with PKCE, then the identity from a JSON userinfo API called with the access token, plus any
 * extra calls the config declares. Nothing here is specific to one vendor; config/oauth2-*.example.yaml
 * show GitHub, GitLab and Discord.
 */
export const oauth2ProviderSchema = z
  .object({
    ...providerBaseShape,
    kind: z.literal('oauth2').describe("An OAuth 2.0 provider without OpenID Connect (GitHub, GitLab's API, Discord, …)."),
    authorization_endpoint: z.url().describe("The provider's authorization endpoint."),
    token_endpoint: z.url().describe("The provider's token endpoint."),
    issuer: z.url().optional().describe("The server's issuer identifier, when it sends `iss` in authorization responses (RFC 9207): `iss` is then required and checked. Most OAuth-only servers have none."),
    client_id: z.string().min(1).describe("Causeway's client id at the provider."),
    ...secretShape('client_secret', "Causeway's client secret at the provider (for `client_secret_basic`, `client_secret_post` and `client_secret_jwt`)."),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'none']).default('client_secret_basic').describe('How Causeway authenticates at the token endpoint.'),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'not a valid scope token'))
      .default([])
      .describe('Scopes requested (e.g. GitHub `read:user user:email read:org`).'),
    pkce: z.boolean().default(true).describe('Send a PKCE S256 challenge; leave on unless the server refuses `code_challenge`.'),
    authorization_params: authorizationParamsSchema(RESERVED_OAUTH_PARAMS).describe(
      'Extra parameters of the authorization request; each value a Liquid template over the downstream request (`request.*`), left out when it renders empty.',
    ),
    userinfo: z
      .object({
        url: z.url().describe('The API that says who the user is (GitHub `https://api.github.com/user`), called with the access token.'),
        subject: jsonPath.describe('Where the stable user id is in its answer (GitHub and GitLab `id`; numbers become text).'),
        headers,
      })
      .strict()
      .describe('The "who am I" API: its answer\'s fields become attributes (nested objects flattened with dots).'),
    requests: z.array(extraRequest).max(8).default([]).describe('Extra calls with the same token, in order, each adding the attributes it names (verified emails, organisations, teams).'),
    api_headers: headers.describe("Headers sent with every API call (userinfo and requests), e.g. GitHub's `X-GitHub-Api-Version`."),
    allow_insecure_http: z.boolean().default(false).describe('dev_mode only: allow plain http to the provider.'),
    timeout_ms: z.number().int().min(100).max(60000).default(10000).describe('Timeout of each call to the provider, in milliseconds.'),
  })
  .strict()
  .transform((o, ctx) => {
    const client_secret = resolveSecret(o, 'client_secret', ctx, { required: SECRET_METHODS.has(o.token_endpoint_auth_method) });
    if (!o.allow_insecure_http) {
      const urls: Array<[(string | number)[], string | undefined]> = [
        [['authorization_endpoint'], o.authorization_endpoint],
        [['token_endpoint'], o.token_endpoint],
        [['userinfo', 'url'], o.userinfo.url],
        ...o.requests.map((r, i): [(string | number)[], string] => [['requests', i, 'url'], r.url]),
      ];
      for (const [path, url] of urls) {
        if (url !== undefined && !url.startsWith('https://')) ctx.addIssue({ code: 'custom', path, message: 'must be https (allow_insecure_http: true only for tests)' });
      }
    }
    const { client_secret_file: _a, client_secret_env: _b, ...rest } = o;
    return { ...rest, client_secret };
  })
  .describe('An upstream OAuth 2.0 provider without OpenID Connect.');
export type OAuth2ProviderConfig = z.infer<typeof oauth2ProviderSchema>;
