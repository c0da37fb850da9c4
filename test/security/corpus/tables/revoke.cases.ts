import { oauth, type CorpusCase, type Expectation, type RequestSpec } from '../corpus-case.js';
import { CONF, POST } from '../corpus-server.js';

/**
 * POST /oauth2/revoke (RFC 7009). Anyone may revoke a token they hold (secret scanners), so a
 * guessed or foreign token is answered 200 `{}` and must change nothing; credentials that are
 * sent must be right.
 */
const form = (f: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = {}): RequestSpec => ({ path: '/oauth2/revoke', form: f, headers: { accept: 'application/json', ...headers } });
const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
const emptyOk: Expectation = { status: 200, grantsNothing: (body) => (body.trim() === '{}' ? undefined : `answered ${body.slice(0, 100)}`) };

/** The victim's token must still work after the case. */
const victimStillActive = async (ctx: import('../corpus-server.js').CorpusContext) => {
  const res = await fetch(`${ctx.url}/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer test-shared-secret-0123456789abcdef' },
    body: new URLSearchParams({ token: ctx.victim.accessToken }),
  });
  const body = (await res.json()) as { active?: boolean };
  return body.active ? undefined : "the victim's access token is no longer active";
};

export const REVOKE_CASES: CorpusCase[] = [
  { id: 'revoke/json-body', family: 'revoke', request: (ctx) => ({ path: '/oauth2/revoke', json: { token: ctx.victim.accessToken } }), expect: oauth(400, 'invalid_request'), after: victimStillActive },
  {
    id: 'revoke/text-plain-body',
    family: 'revoke',
    request: (ctx) => ({ path: '/oauth2/revoke', body: `token=${ctx.victim.accessToken}`, headers: { 'content-type': 'text/plain' } }),
    expect: oauth(400, 'invalid_request'),
    after: victimStillActive,
  },
  { id: 'revoke/no-body', family: 'revoke', request: () => ({ method: 'POST', path: '/oauth2/revoke' }), expect: oauth(400, 'invalid_request') },
  { id: 'revoke/missing-token', family: 'revoke', request: (ctx) => form({ client_id: ctx.publicClient }), expect: oauth(400, 'invalid_request') },
  {
    id: 'revoke/duplicated-token',
    family: 'revoke',
    request: (ctx) =>
      form([
        ['token', 'mat_a'],
        ['token', ctx.victim.accessToken],
      ]),
    expect: oauth(400, 'invalid_request'),
    after: victimStillActive,
  },
  { id: 'revoke/nul-in-token', family: 'revoke', request: () => form({ token: 'mat_\u0000' }), expect: oauth(400, 'invalid_request') },
  { id: 'revoke/nul-in-client-id', family: 'revoke', request: () => form({ token: 'mat_x', client_id: 'a\u0000b' }), expect: oauth(400, 'invalid_request') },
  {
    id: 'revoke/oversized-body',
    family: 'revoke',
    request: () => ({ path: '/oauth2/revoke', body: `token=${'a'.repeat(80 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(413, 'invalid_request'),
  },
  { id: 'revoke/basic-wrong-secret', family: 'revoke', request: (ctx) => form({ token: ctx.victim.accessToken }, basic(CONF.id, 'wrong')), expect: oauth(401, 'invalid_client'), after: victimStillActive },
  { id: 'revoke/basic-unknown-client', family: 'revoke', request: (ctx) => form({ token: ctx.victim.accessToken }, basic('nobody', 'x')), expect: oauth(401, 'invalid_client'), after: victimStillActive },
  {
    id: 'revoke/secret-post-wrong-secret',
    family: 'revoke',
    request: (ctx) => form({ token: ctx.victim.accessToken, client_id: POST.id, client_secret: 'wrong' }),
    expect: oauth(401, 'invalid_client'),
    after: victimStillActive,
  },
  {
    id: 'revoke/secret-for-public-client',
    family: 'revoke',
    request: (ctx) => form({ token: ctx.victim.accessToken, client_id: ctx.publicClient, client_secret: 'x' }),
    expect: oauth(401, 'invalid_client'),
    after: victimStillActive,
  },
  {
    id: 'revoke/basic-and-body-secret',
    family: 'revoke',
    request: (ctx) => form({ token: ctx.victim.accessToken, client_secret: CONF.secret }, basic(CONF.id, CONF.secret)),
    expect: oauth(400, 'invalid_request'),
    after: victimStillActive,
  },
  { id: 'revoke/guessed-access-token', family: 'revoke', request: () => form({ token: 'mat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000' }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/guessed-refresh-token', family: 'revoke', request: () => form({ token: 'mar_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000', token_type_hint: 'refresh_token' }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/victim-token-prefix', family: 'revoke', request: (ctx) => form({ token: ctx.victim.accessToken.slice(0, -1) }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/victim-token-case-changed', family: 'revoke', request: (ctx) => form({ token: ctx.victim.accessToken.toUpperCase() }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/victim-token-with-padding', family: 'revoke', request: (ctx) => form({ token: ` ${ctx.victim.accessToken} ` }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/unicode-token', family: 'revoke', request: () => form({ token: 'ｍａｔ_\u202Eabc' }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/overlong-token', family: 'revoke', request: () => form({ token: 't'.repeat(40_000) }), expect: emptyOk, after: victimStillActive },
  { id: 'revoke/get-method', family: 'revoke', request: (ctx) => ({ method: 'GET', path: `/oauth2/revoke?token=${ctx.victim.accessToken}` }), expect: oauth(404, 'not_found'), after: victimStillActive },
];
