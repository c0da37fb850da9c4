import { createHash } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { oauth, type CorpusCase, type RequestSpec } from '../corpus-case.js';
import { CONF, POST, REDIRECT, type CorpusContext } from '../corpus-server.js';
import { postForm } from '../../../integration/oauth2/oauth-http.js';

/** POST /oauth2/token: form only, one value per parameter, the client authenticated as registered, codes single-use and PKCE-bound. */
const form = (f: Record<string, string> | Array<[string, string]>, headers: Record<string, string> = {}): RequestSpec => ({ path: '/oauth2/token', form: f, headers: { accept: 'application/json', ...headers } });
const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });
const codeGrant = (ctx: CorpusContext, code: string, verifier: string, over: Record<string, string | null> = {}) => {
  const f: Record<string, string | null> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: ctx.publicClient, code_verifier: verifier, ...over };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== null)) as Record<string, string>;
};
/** Fresh tokens of the victim, for a case that may burn them. */
async function freshTokens(ctx: CorpusContext) {
  const { code, verifier } = await ctx.mintCode();
  const res = await postForm(`${ctx.url}/oauth2/token`, codeGrant(ctx, code, verifier));
  if (res.status !== 200) throw new Error(`fresh tokens: ${JSON.stringify(res.json)}`);
  return { accessToken: res.json.access_token as string, refreshToken: res.json.refresh_token as string };
}
/** A code of the victim already exchanged once (its tokens are the replay's to lose, not the shared victim's). */
async function usedCode(ctx: CorpusContext) {
  const { code, verifier } = await ctx.mintCode();
  const res = await postForm(`${ctx.url}/oauth2/token`, codeGrant(ctx, code, verifier));
  if (res.status !== 200) throw new Error(`first exchange: ${JSON.stringify(res.json)}`);
  return { code, verifier };
}
const now = () => Math.floor(Date.now() / 1000);
const unsignedAssertion = (ctx: CorpusContext, sub: string) => new UnsecuredJWT({ iss: sub, sub, aud: `${ctx.url}/oauth2/token`, exp: now() + 60, jti: 'x' }).encode();

export const TOKEN_CASES: CorpusCase[] = [
  // Wrong shapes of request.
  { id: 'token/json-body', family: 'token', request: (ctx) => ({ path: '/oauth2/token', json: codeGrant(ctx, 'x', 'y') }), expect: oauth(400, 'invalid_request') },
  { id: 'token/text-plain-body', family: 'token', request: () => ({ path: '/oauth2/token', body: 'grant_type=client_credentials', headers: { 'content-type': 'text/plain' } }), expect: oauth(400, 'invalid_request') },
  {
    id: 'token/multipart-body',
    family: 'token',
    request: () => ({ path: '/oauth2/token', body: '--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--b--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=b' } }),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'token/no-body', family: 'token', request: () => ({ method: 'POST', path: '/oauth2/token' }), expect: oauth(400, 'invalid_request') },
  { id: 'token/empty-form', family: 'token', request: () => ({ path: '/oauth2/token', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), expect: oauth(400, 'invalid_request') },
  {
    id: 'token/xml-body',
    family: 'token',
    request: () => ({ path: '/oauth2/token', body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', headers: { 'content-type': 'application/xml' } }),
    expect: oauth(400, 'invalid_request'),
  },
  {
    id: 'token/oversized-body',
    family: 'token',
    request: () => ({ path: '/oauth2/token', body: `grant_type=client_credentials&x=${'a'.repeat(80 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(413, 'invalid_request'),
  },
  { id: 'token/get-method', family: 'token', request: () => ({ method: 'GET', path: '/oauth2/token?grant_type=client_credentials' }), expect: oauth(404, 'not_found') },
  { id: 'token/missing-grant-type', family: 'token', request: (ctx) => form({ client_id: ctx.publicClient }), expect: oauth(400, 'invalid_request') },
  { id: 'token/grant-password', family: 'token', request: (ctx) => form({ grant_type: 'password', username: 'victim', password: 'x', client_id: ctx.publicClient }), expect: oauth(400, 'unsupported_grant_type') },
  { id: 'token/grant-implicit', family: 'token', request: (ctx) => form({ grant_type: 'implicit', client_id: ctx.publicClient }), expect: oauth(400, 'unsupported_grant_type') },
  {
    id: 'token/grant-jwt-bearer',
    family: 'token',
    request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: unsignedAssertion(ctx, 'victim') }),
    expect: oauth(400, 'unsupported_grant_type'),
  },
  {
    id: 'token/grant-token-exchange',
    family: 'token',
    request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: ctx.victim.accessToken, client_id: ctx.otherClient }),
    expect: oauth(400, 'unsupported_grant_type'),
  },
  { id: 'token/grant-type-case-variant', family: 'token', request: (ctx) => form({ grant_type: 'Authorization_Code', code: 'x', client_id: ctx.publicClient }), expect: oauth(400, 'unsupported_grant_type') },
  {
    id: 'token/duplicated-grant-type',
    family: 'token',
    request: (ctx) =>
      form([
        ['grant_type', 'refresh_token'],
        ['grant_type', 'client_credentials'],
        ['client_id', ctx.publicClient],
      ]),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'token/duplicated-code', family: 'token', request: (ctx) => form([...Object.entries(codeGrant(ctx, 'a', 'b')), ['code', 'c']]), expect: oauth(400, 'invalid_request') },
  { id: 'token/nul-in-code', family: 'token', request: (ctx) => form(codeGrant(ctx, 'a\u0000b', 'v')), expect: oauth(400, 'invalid_request') },
  {
    id: 'token/nul-in-parameter-name',
    family: 'token',
    request: (ctx) => ({ ...form({}), form: undefined, body: `grant_type=authorization_code&client_id=${ctx.publicClient}&co%00de=x`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(400, 'invalid_request'),
  },
  {
    id: 'token/malformed-percent-encoding',
    family: 'token',
    request: (ctx) => ({ path: '/oauth2/token', body: `grant_type=authorization_code&client_id=${ctx.publicClient}&code=%E0%A4%A&redirect_uri=x`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(400, 'invalid_grant'),
  },

  // Codes: replay, PKCE, binding to client and redirect URI.
  { id: 'token/code-replay', family: 'token', prepare: usedCode, request: (ctx, c) => form(codeGrant(ctx, c.code, c.verifier)), expect: oauth(400, 'invalid_grant') },
  { id: 'token/code-replay-by-other-client', family: 'token', prepare: usedCode, request: (ctx, c) => form(codeGrant(ctx, c.code, c.verifier, { client_id: ctx.otherClient })), expect: oauth(400, 'invalid_grant') },
  {
    id: 'token/code-replay-wrong-secret',
    family: 'token',
    prepare: usedCode,
    request: (ctx, c) => form(codeGrant(ctx, c.code, c.verifier, { client_id: CONF.id, client_secret: 'guess' })),
    expect: oauth(401, 'invalid_client'),
  },
  { id: 'token/code-unknown', family: 'token', request: (ctx) => form(codeGrant(ctx, 'mac_notacode', 'v'.repeat(43))), expect: oauth(400, 'invalid_grant') },
  { id: 'token/code-overlong', family: 'token', request: (ctx) => form(codeGrant(ctx, 'c'.repeat(20_000), 'v'.repeat(43))), expect: oauth(400, 'invalid_grant') },
  { id: 'token/code-unicode', family: 'token', request: (ctx) => form(codeGrant(ctx, 'ｃｏｄｅ\u202E', 'v'.repeat(43))), expect: oauth(400, 'invalid_grant') },
  ...(
    [
      ['pkce-wrong-verifier', (v: string) => ({ code_verifier: `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}` }), 'invalid_grant'],
      ['pkce-verifier-missing', () => ({ code_verifier: null }), 'invalid_grant'],
      ['pkce-verifier-is-the-challenge (plain downgrade)', (_v: string, challenge: string) => ({ code_verifier: challenge }), 'invalid_grant'],
      ['pkce-verifier-too-short', () => ({ code_verifier: 'short' }), 'invalid_grant'],
      ['pkce-verifier-too-long', () => ({ code_verifier: 'v'.repeat(200) }), 'invalid_grant'],
      ['code-for-other-client', () => ({ client_id: '$OTHER' }), 'invalid_grant'],
      ['code-with-other-redirect-uri', () => ({ redirect_uri: 'http://localhost:3000/cb' }), 'invalid_grant'],
      ['code-with-foreign-redirect-uri', () => ({ redirect_uri: 'https://evil.example/cb' }), 'invalid_grant'],
      ['code-with-client-secret-for-public-client', () => ({ client_secret: 'guess' }), 'invalid_client'],
      ['code-with-confidential-client-id', () => ({ client_id: CONF.id }), 'invalid_client'],
    ] as Array<[string, (verifier: string, challenge: string) => Record<string, string | null>, string]>
  ).map(([what, over, error]): CorpusCase => ({
    id: `token/${what.replace(/ \(.*\)/, '')}`,
    family: 'token',
    prepare: (ctx) => ctx.mintCode(),
    request: (ctx, minted: { code: string; verifier: string }) => {
      const o = over(minted.verifier, createHash('sha256').update(minted.verifier).digest('base64url'));
      if (o.client_id === '$OTHER') o.client_id = ctx.otherClient;
      return form(codeGrant(ctx, minted.code, minted.verifier, o));
    },
    expect: oauth(error === 'invalid_client' ? 401 : 400, error),
  })),

  // Refresh tokens: another client's, escalated scope, garbage.
  {
    id: 'token/refresh-by-other-client',
    family: 'token',
    prepare: freshTokens,
    request: (ctx, t) => form({ grant_type: 'refresh_token', refresh_token: t.refreshToken, client_id: ctx.otherClient }),
    expect: oauth(400, 'invalid_grant'),
  },
  {
    id: 'token/refresh-scope-escalation-admin',
    family: 'token',
    prepare: freshTokens,
    request: (ctx, t) => form({ grant_type: 'refresh_token', refresh_token: t.refreshToken, client_id: ctx.publicClient, scope: 'urn:matrix:client:api:* urn:synapse:admin:*' }),
    expect: oauth(400, 'invalid_scope'),
  },
  {
    id: 'token/refresh-scope-other-device',
    family: 'token',
    prepare: freshTokens,
    request: (ctx, t) => form({ grant_type: 'refresh_token', refresh_token: t.refreshToken, client_id: ctx.publicClient, scope: 'urn:matrix:client:api:* urn:matrix:client:device:STOLENDEV1' }),
    expect: oauth(400, 'invalid_scope'),
  },
  {
    id: 'token/refresh-with-access-token',
    family: 'token',
    prepare: freshTokens,
    request: (ctx, t) => form({ grant_type: 'refresh_token', refresh_token: t.accessToken, client_id: ctx.publicClient }),
    expect: oauth(400, 'invalid_grant'),
  },
  {
    id: 'token/refresh-garbage',
    family: 'token',
    request: (ctx) => form({ grant_type: 'refresh_token', refresh_token: 'mar_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000', client_id: ctx.publicClient }),
    expect: oauth(400, 'invalid_grant'),
  },
  { id: 'token/refresh-missing', family: 'token', request: (ctx) => form({ grant_type: 'refresh_token', client_id: ctx.publicClient }), expect: oauth(400, 'invalid_request') },
  {
    id: 'token/refresh-compat-token',
    family: 'token',
    request: (ctx) => form({ grant_type: 'refresh_token', refresh_token: ctx.victim.compatRefreshToken, client_id: ctx.publicClient }),
    expect: oauth(400, 'invalid_grant'),
  },

  // Client authentication.
  { id: 'token/client-credentials-public-client', family: 'token', request: (ctx) => form({ grant_type: 'client_credentials', client_id: ctx.publicClient }), expect: oauth(400, 'unauthorized_client') },
  { id: 'token/basic-wrong-secret', family: 'token', request: () => form({ grant_type: 'client_credentials' }, basic(CONF.id, 'wrong')), expect: oauth(401, 'invalid_client') },
  { id: 'token/basic-empty-secret', family: 'token', request: () => form({ grant_type: 'client_credentials' }, basic(CONF.id, '')), expect: oauth(401, 'invalid_client') },
  { id: 'token/basic-unknown-client', family: 'token', request: () => form({ grant_type: 'client_credentials' }, basic('nobody', CONF.secret)), expect: oauth(401, 'invalid_client') },
  { id: 'token/basic-no-colon', family: 'token', request: () => form({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(CONF.id).toString('base64')}` }), expect: oauth(401, 'invalid_client') },
  { id: 'token/basic-not-base64', family: 'token', request: () => form({ grant_type: 'client_credentials' }, { authorization: 'Basic !!!***' }), expect: oauth(401, 'invalid_client') },
  {
    id: 'token/basic-bad-percent-encoding',
    family: 'token',
    request: () => form({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${CONF.id}:%E0%A4%A`).toString('base64')}` }),
    expect: oauth(401, 'invalid_client'),
  },
  { id: 'token/basic-nul-in-id', family: 'token', request: () => form({ grant_type: 'client_credentials' }, basic(`${CONF.id}\u0000`, CONF.secret)), expect: oauth(401, 'invalid_client') },
  { id: 'token/basic-and-body-secret', family: 'token', request: () => form({ grant_type: 'client_credentials', client_secret: CONF.secret }, basic(CONF.id, CONF.secret)), expect: oauth(400, 'invalid_request') },
  {
    id: 'token/basic-and-other-body-client-id',
    family: 'token',
    request: (ctx) => form({ grant_type: 'client_credentials', client_id: ctx.publicClient }, basic(CONF.id, CONF.secret)),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'token/secret-post-for-basic-client', family: 'token', request: () => form({ grant_type: 'client_credentials', client_id: CONF.id, client_secret: CONF.secret }), expect: oauth(401, 'invalid_client') },
  { id: 'token/basic-for-post-client', family: 'token', request: () => form({ grant_type: 'client_credentials' }, basic(POST.id, POST.secret)), expect: oauth(401, 'invalid_client') },
  { id: 'token/confidential-client-without-secret', family: 'token', request: () => form({ grant_type: 'client_credentials', client_id: CONF.id }), expect: oauth(401, 'invalid_client') },
  { id: 'token/client-id-case-variant', family: 'token', request: () => form({ grant_type: 'client_credentials', client_id: CONF.id.toUpperCase(), client_secret: CONF.secret }), expect: oauth(401, 'invalid_client') },
  {
    id: 'token/client-id-confusable',
    family: 'token',
    request: () => form({ grant_type: 'client_credentials', client_id: CONF.id.replace('c', '\u0441'), client_secret: CONF.secret }),
    expect: oauth(401, 'invalid_client'),
  },
  {
    id: 'token/client-assertion-alg-none',
    family: 'token',
    request: (ctx) => form({ grant_type: 'client_credentials', client_id: CONF.id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: unsignedAssertion(ctx, CONF.id) }),
    expect: oauth(401, 'invalid_client'),
  },
  {
    id: 'token/client-assertion-hs256-guessed-key',
    family: 'token',
    prepare: async (ctx) =>
      new SignJWT({ iss: CONF.id, sub: CONF.id, aud: `${ctx.url}/oauth2/token`, exp: now() + 60, jti: 'y' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('guessed-secret-guessed-secret-32b')),
    request: (_ctx, jwt: string) => form({ grant_type: 'client_credentials', client_id: CONF.id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }),
    expect: oauth(401, 'invalid_client'),
  },
  {
    id: 'token/client-credentials-admin-scope',
    family: 'token',
    request: () => form({ grant_type: 'client_credentials', client_id: POST.id, client_secret: POST.secret, scope: 'urn:synapse:admin:*' }),
    expect: oauth(400, 'invalid_scope'),
  },
  {
    id: 'token/client-credentials-causeway-admin-scope',
    family: 'token',
    request: () => form({ grant_type: 'client_credentials', client_id: POST.id, client_secret: POST.secret, scope: 'urn:causeway:admin' }),
    expect: oauth(400, 'invalid_scope'),
  },
  {
    id: 'token/client-credentials-matrix-api-scope',
    family: 'token',
    request: () => form({ grant_type: 'client_credentials', client_id: POST.id, client_secret: POST.secret, scope: 'urn:matrix:client:api:* urn:matrix:client:device:SVCDEV' }),
    expect: oauth(400, 'invalid_scope'),
  },

  // The device grant: an unknown code, another client's, still pending.
  {
    id: 'token/device-code-unknown',
    family: 'token',
    request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'nope', client_id: ctx.publicClient }),
    expect: oauth(400, 'invalid_grant'),
  },
  {
    id: 'token/device-code-other-client',
    family: 'token',
    request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: ctx.device.deviceCode, client_id: ctx.otherClient }),
    expect: oauth(400, 'invalid_grant'),
  },
  {
    id: 'token/device-code-pending',
    family: 'token',
    request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: ctx.device.deviceCode, client_id: ctx.publicClient }),
    expect: oauth(400, 'authorization_pending'),
  },
  {
    id: 'token/device-code-is-user-code',
    family: 'token',
    request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: ctx.device.userCode, client_id: ctx.publicClient }),
    expect: oauth(400, 'invalid_grant'),
  },
  { id: 'token/device-code-missing', family: 'token', request: (ctx) => form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: ctx.publicClient }), expect: oauth(400, 'invalid_request') },
];
