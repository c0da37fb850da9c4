import { oauth, type CorpusCase, type Expectation, type RequestSpec } from '../corpus-case.js';
import { CONF, POST } from '../corpus-server.js';
import { SHARED_SECRET } from '../../../support/causeway.js';

/**
 * POST /oauth2/introspect, the raw fast path in front of Fastify (Synapse's Bearer shared secret,
 * or a static client allowed to introspect). An unknown token is `{"active":false}`; anything
 * else wrong is an OAuth error.
 */
const synapse = { authorization: `Bearer ${SHARED_SECRET}` };
const form = (f: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = synapse): RequestSpec => ({ path: '/oauth2/introspect', form: f, headers });
const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
const inactive: Expectation = {
  status: 200,
  grantsNothing: (body) => ((JSON.parse(body) as { active?: unknown }).active === false && Object.keys(JSON.parse(body)).length === 1 ? undefined : `answered ${body.slice(0, 200)}`),
};

export const INTROSPECT_CASES: CorpusCase[] = [
  { id: 'introspect/no-authentication', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken }, {}), expect: oauth(401, 'invalid_client') },
  { id: 'introspect/wrong-shared-secret', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken }, { authorization: 'Bearer wrong-secret' }), expect: oauth(401, 'access_denied') },
  {
    id: 'introspect/shared-secret-prefix',
    family: 'introspect',
    request: (ctx) => form({ token: ctx.victim.accessToken }, { authorization: `Bearer ${SHARED_SECRET.slice(0, -1)}` }),
    expect: oauth(401, 'access_denied'),
  },
  { id: 'introspect/shared-secret-as-basic', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken }, basic('synapse', SHARED_SECRET)), expect: oauth(401, 'invalid_client') },
  { id: 'introspect/victim-token-as-bearer', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken }, { authorization: `Bearer ${ctx.victim.accessToken}` }), expect: oauth(401, 'access_denied') },
  { id: 'introspect/basic-wrong-secret', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken }, basic(CONF.id, 'wrong')), expect: oauth(401, 'invalid_client') },
  {
    id: 'introspect/client-without-introspection-right',
    family: 'introspect',
    request: (ctx) => form({ token: ctx.victim.accessToken, client_id: POST.id, client_secret: POST.secret }, {}),
    expect: oauth(401, 'invalid_client'),
  },
  { id: 'introspect/public-client', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken, client_id: ctx.publicClient }, {}), expect: oauth(401, 'invalid_client') },
  { id: 'introspect/basic-nul-in-id', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken }, basic(`${CONF.id}\u0000`, CONF.secret)), expect: oauth(401, 'invalid_client') },
  { id: 'introspect/json-body', family: 'introspect', request: (ctx) => ({ path: '/oauth2/introspect', json: { token: ctx.victim.accessToken }, headers: synapse }), expect: oauth(400, 'invalid_request') },
  { id: 'introspect/no-content-type', family: 'introspect', request: (ctx) => ({ path: '/oauth2/introspect', body: `token=${ctx.victim.accessToken}`, headers: synapse }), expect: oauth(400, 'invalid_request') },
  { id: 'introspect/missing-token', family: 'introspect', request: () => form({}), expect: oauth(400, 'invalid_request') },
  {
    id: 'introspect/duplicated-token',
    family: 'introspect',
    request: (ctx) =>
      form([
        ['token', 'mat_x'],
        ['token', ctx.victim.accessToken],
      ]),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'introspect/nul-in-token', family: 'introspect', request: () => form({ token: 'mat_\u0000' }), expect: oauth(400, 'invalid_request') },
  {
    id: 'introspect/nul-in-parameter-name',
    family: 'introspect',
    request: () => ({ path: '/oauth2/introspect', body: 'tok%00en=mat_x', headers: { ...synapse, 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(400, 'invalid_request'),
  },
  {
    id: 'introspect/oversized-body',
    family: 'introspect',
    request: () => ({ path: '/oauth2/introspect', body: `token=${'a'.repeat(80 * 1024)}`, headers: { ...synapse, 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(413, 'invalid_request'),
  },
  {
    id: 'introspect/malformed-percent-encoding',
    family: 'introspect',
    request: () => ({ path: '/oauth2/introspect', body: 'token=%E0%A4%A', headers: { ...synapse, 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'introspect/guessed-token', family: 'introspect', request: () => form({ token: 'mat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000' }), expect: inactive },
  { id: 'introspect/victim-token-truncated', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken.slice(0, -2) }), expect: inactive },
  { id: 'introspect/victim-token-uppercased', family: 'introspect', request: (ctx) => form({ token: ctx.victim.accessToken.toUpperCase() }), expect: inactive },
  { id: 'introspect/victim-token-with-space', family: 'introspect', request: (ctx) => form({ token: `${ctx.victim.accessToken} ` }), expect: inactive },
  { id: 'introspect/compat-token-prefix-swap', family: 'introspect', request: (ctx) => form({ token: ctx.victim.compatAccessToken.replace(/^syt_|^mct_/, 'mat_') }), expect: inactive },
  { id: 'introspect/authorization-code-as-token', family: 'introspect', request: (ctx) => form({ token: ctx.victim.usedCode }), expect: inactive },
  { id: 'introspect/used-login-token-as-token', family: 'introspect', request: (ctx) => form({ token: ctx.victim.usedLoginToken }), expect: inactive },
  { id: 'introspect/unicode-token', family: 'introspect', request: () => form({ token: 'mat_ｆｕｌｌ\u202E' }), expect: inactive },
  { id: 'introspect/overlong-token', family: 'introspect', request: () => form({ token: `mat_${'a'.repeat(60_000)}` }), expect: inactive },
  { id: 'introspect/sql-ish-token', family: 'introspect', request: () => form({ token: "mat_' OR '1'='1" }), expect: inactive },
];
