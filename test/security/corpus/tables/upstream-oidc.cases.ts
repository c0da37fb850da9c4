import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { Agent, oauth, page, type CorpusCase, type Expectation } from '../corpus-case.js';
import { OIDC_CLIENT, oidcCode, startUpstreamLogin, type CorpusContext, type UpstreamLogin } from '../corpus-server.js';

/**
 * The OIDC upstream: its callback (/upstream/corp/callback, GET and form_post POST with the parked
 * resume), and back-channel logout (/upstream/corp/backchannel-logout). The fake IdP's token
 * endpoint answers each case's code with the ID token the case forged.
 */
const now = () => Math.floor(Date.now() / 1000);
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const refusedPage: Expectation = page(400);

type Forge = (ctx: CorpusContext, nonce: string) => Promise<string>;
const claims = (ctx: CorpusContext, nonce: string, over: Record<string, unknown> = {}) => {
  // A usable username: a token accepted by mistake would sign in (and the universal checks see it).
  const c: Record<string, unknown> = { iss: ctx.idp.issuer, aud: OIDC_CLIENT, sub: 'mallory', preferred_username: `mallory-${randomBytes(3).toString('hex')}`, iat: now(), exp: now() + 300, nonce, sid: 'sid-m' };
  for (const [k, v] of Object.entries(over))
    if (v === undefined) delete c[k];
    else c[k] = v;
  return c;
};
const idTokenCase = (what: string, forge: Forge, status = 400): CorpusCase => ({
  id: `upstream-oidc/id-token-${what}`,
  family: 'upstream-oidc',
  prepare: async (ctx) => {
    const login = await startUpstreamLogin(ctx, 'corp');
    const code = oidcCode(ctx, login, async (nonce) => ({ access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: await forge(ctx, nonce) }));
    return { ...login, code };
  },
  request: (ctx, l: UpstreamLogin & { code: string }) => ({ path: `/upstream/corp/callback?code=${l.code}&state=${encodeURIComponent(l.state!)}&iss=${encodeURIComponent(ctx.idp.issuer)}` }),
  expect: page(status),
});
const callbackCase = (what: string, query: (ctx: CorpusContext, l: UpstreamLogin) => string, expect: Expectation = refusedPage, freshBrowser = false): CorpusCase => ({
  id: `upstream-oidc/callback-${what}`,
  family: 'upstream-oidc',
  prepare: async (ctx) => {
    const login = await startUpstreamLogin(ctx, 'corp');
    return freshBrowser ? { ...login, agent: new Agent() } : login;
  },
  request: (ctx, l: UpstreamLogin) => ({ path: `/upstream/corp/callback?${query(ctx, l)}` }),
  expect,
});
const logoutToken = (ctx: CorpusContext, over: Record<string, unknown> = {}, o: Parameters<CorpusContext['idp']['sign']>[1] = {}) => {
  const c: Record<string, unknown> = { iss: ctx.idp.issuer, aud: OIDC_CLIENT, iat: now(), jti: randomBytes(8).toString('hex'), sub: 'victim-upstream', sid: 'sid-v', events: { [EVENT]: {} } };
  for (const [k, v] of Object.entries(over))
    if (v === undefined) delete c[k];
    else c[k] = v;
  return ctx.idp.sign(c, { typ: 'logout+jwt', ...o } as never);
};
const bcl = (what: string, token: (ctx: CorpusContext) => Promise<string> | string, expect: Expectation = oauth(400, 'invalid_request')): CorpusCase => ({
  id: `upstream-oidc/backchannel-${what}`,
  family: 'upstream-oidc',
  prepare: async (ctx) => token(ctx),
  request: (_ctx, t: string) => ({ path: '/upstream/corp/backchannel-logout', form: { logout_token: t } }),
  expect,
});

export const UPSTREAM_OIDC_CASES: CorpusCase[] = [
  // ID tokens no IdP of ours would issue.
  idTokenCase('alg-none', async (ctx, n) => ctx.idp.unsigned(claims(ctx, n))),
  idTokenCase('foreign-key', async (ctx, n) => ctx.idp.sign(claims(ctx, n), { key: ctx.idp.otherKey })),
  idTokenCase('unknown-kid', async (ctx, n) => ctx.idp.sign(claims(ctx, n), { kid: 'not-published' })),
  idTokenCase('hs256-with-client-secret', async (ctx, n) => new SignJWT(claims(ctx, n)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('corpus-oidc-secret'))),
  idTokenCase('wrong-issuer', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { iss: 'https://evil.example' }))),
  idTokenCase('wrong-audience', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { aud: 'another-client' }))),
  idTokenCase('several-audiences-no-azp', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { aud: [OIDC_CLIENT, 'another-client'] }))),
  idTokenCase('expired', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { iat: now() - 3600, exp: now() - 600 }))),
  idTokenCase('issued-in-the-future', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { iat: now() + 3600, exp: now() + 7200 }))),
  idTokenCase('wrong-nonce', async (ctx) => ctx.idp.sign(claims(ctx, 'another-logins-nonce'))),
  idTokenCase('missing-nonce', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { nonce: undefined }))),
  idTokenCase('missing-sub', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { sub: undefined }))),
  idTokenCase('sub-not-a-string', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { sub: { $ne: null } }))),
  idTokenCase('sub-with-nul', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { sub: 'victim\u0000' }))),
  idTokenCase('sub-overlong', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { sub: 's'.repeat(600) }))),
  idTokenCase('sub-empty', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { sub: '' }))),
  idTokenCase('sid-with-nul', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { sid: 'sid\u0000' }))),
  idTokenCase('name-with-nul', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { name: 'Mal\u0000lory' }))),
  idTokenCase('email-with-nul', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { email: 'mallory@example.org\u0000' }))),
  idTokenCase('username-with-nul', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { preferred_username: 'mal\u0000lory' }))),
  idTokenCase('claim-name-with-nul', async (ctx, n) => ctx.idp.sign(claims(ctx, n, { 'x\u0000y': 'z' }))),
  idTokenCase('not-a-jwt', async () => 'not.a.jwt'),

  // The callback itself.
  callbackCase('no-state', () => 'code=abc'),
  callbackCase('unknown-state', () => 'code=abc&state=unknown-state'),
  callbackCase('overlong-state', () => `code=abc&state=${'s'.repeat(600)}`),
  callbackCase('nul-in-state', (_c, l) => `code=abc&state=${encodeURIComponent(l.state!)}%00`),
  callbackCase('duplicated-state', (_c, l) => `code=abc&state=${encodeURIComponent(l.state!)}&state=other`),
  callbackCase('duplicated-code', (ctx, l) => `code=a&code=b&state=${encodeURIComponent(l.state!)}&iss=${encodeURIComponent(ctx.idp.issuer)}`),
  callbackCase('idp-error', (_c, l) => `error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${encodeURIComponent(l.state!)}`),
  callbackCase('iss-mix-up', (_c, l) => `code=abc&state=${encodeURIComponent(l.state!)}&iss=${encodeURIComponent('https://evil.example')}`),
  callbackCase('code-unknown-at-idp', (ctx, l) => `code=never-issued&state=${encodeURIComponent(l.state!)}&iss=${encodeURIComponent(ctx.idp.issuer)}`),
  callbackCase('state-in-another-browser-f1', (ctx, l) => `code=abc&state=${encodeURIComponent(l.state!)}&iss=${encodeURIComponent(ctx.idp.issuer)}`, page(403), true),
  {
    id: 'upstream-oidc/callback-state-of-another-provider',
    family: 'upstream-oidc',
    prepare: (ctx) => startUpstreamLogin(ctx, 'corp'),
    request: (_ctx, l: UpstreamLogin) => ({ path: `/upstream/campus/callback?ticket=ST-1-x&state=${encodeURIComponent(l.state!)}` }),
    expect: page(400),
  },
  {
    id: 'upstream-oidc/form-post-unknown-state',
    family: 'upstream-oidc',
    request: () => ({ path: '/upstream/corp/callback', form: { code: 'abc', state: 'unknown' }, follow: true }),
    expect: page(400),
  },
  {
    id: 'upstream-oidc/form-post-in-another-browser-f1',
    family: 'upstream-oidc',
    prepare: async (ctx) => ({ ...(await startUpstreamLogin(ctx, 'corp')), agent: new Agent() }),
    request: (ctx, l: UpstreamLogin) => ({ path: '/upstream/corp/callback', form: { code: 'abc', state: l.state!, iss: ctx.idp.issuer }, follow: true }),
    expect: page(400),
  },
  { id: 'upstream-oidc/resume-unknown-key', family: 'upstream-oidc', request: () => ({ path: `/upstream/corp/callback/resume/${'A'.repeat(43)}` }), expect: page(400) },
  { id: 'upstream-oidc/resume-malformed-key', family: 'upstream-oidc', request: () => ({ path: '/upstream/corp/callback/resume/..%2F..%2Fadmin' }), expect: page(400) },
  { id: 'upstream-oidc/callback-put', family: 'upstream-oidc', request: () => ({ method: 'PUT', path: '/upstream/corp/callback?state=x' }), expect: page(405) },
  { id: 'upstream-oidc/callback-unknown-provider', family: 'upstream-oidc', request: () => ({ path: '/upstream/nope/callback?code=a&state=b' }), expect: page(404) },
  { id: 'upstream-oidc/dev-login-of-other-provider', family: 'upstream-oidc', request: () => ({ path: '/upstream/corp/dev-login?state=x' }), expect: page(404) },

  // Back-channel logout tokens.
  bcl('alg-none', (ctx) => ctx.idp.unsigned({ iss: ctx.idp.issuer, aud: OIDC_CLIENT, iat: now(), jti: 'n1', sub: 'victim-upstream', events: { [EVENT]: {} } })),
  bcl('foreign-key', (ctx) => logoutToken(ctx, {}, { key: ctx.idp.otherKey })),
  bcl('hs256-with-client-secret', (ctx) =>
    new SignJWT({ iss: ctx.idp.issuer, aud: OIDC_CLIENT, iat: now(), jti: 'h1', sub: 'victim-upstream', events: { [EVENT]: {} } })
      .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
      .sign(new TextEncoder().encode('corpus-oidc-secret')),
  ),
  bcl('wrong-issuer', (ctx) => logoutToken(ctx, { iss: 'https://evil.example' })),
  bcl('wrong-audience', (ctx) => logoutToken(ctx, { aud: 'another-client' })),
  bcl('missing-event', (ctx) => logoutToken(ctx, { events: undefined })),
  bcl('wrong-event', (ctx) => logoutToken(ctx, { events: { 'http://schemas.openid.net/event/other': {} } })),
  bcl('with-nonce', (ctx) => logoutToken(ctx, { nonce: 'n' })),
  bcl('without-sid-and-sub', (ctx) => logoutToken(ctx, { sid: undefined, sub: undefined })),
  bcl('without-jti', (ctx) => logoutToken(ctx, { jti: undefined })),
  bcl('issued-long-ago', (ctx) => logoutToken(ctx, { iat: now() - 86_400 * 30 })),
  bcl('issued-in-the-future', (ctx) => logoutToken(ctx, { iat: now() + 3600 })),
  bcl('expired', (ctx) => logoutToken(ctx, { exp: now() - 600, iat: now() - 900 })),
  bcl('id-token-instead', (ctx) => ctx.idp.sign({ iss: ctx.idp.issuer, aud: OIDC_CLIENT, iat: now(), exp: now() + 60, sub: 'victim-upstream', nonce: 'n', jti: 'idt' })),
  bcl('garbage', () => 'not.a.jwt'),
  bcl('overlong', () => `${'e'.repeat(17_000)}`),
  {
    id: 'upstream-oidc/backchannel-replayed-jti',
    family: 'upstream-oidc',
    prepare: async (ctx) => {
      const t = await logoutToken(ctx, { sub: 'nobody-here' });
      const first = await fetch(`${ctx.url}/upstream/corp/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: t }) });
      if (first.status !== 200) throw new Error(`first delivery: ${first.status}`);
      return t;
    },
    request: (_ctx, t: string) => ({ path: '/upstream/corp/backchannel-logout', form: { logout_token: t } }),
    expect: oauth(400, 'invalid_request'),
  },
  {
    id: 'upstream-oidc/backchannel-json-body',
    family: 'upstream-oidc',
    prepare: (ctx) => logoutToken(ctx),
    request: (_c, t: string) => ({ path: '/upstream/corp/backchannel-logout', json: { logout_token: t } }),
    expect: oauth(400, 'invalid_request'),
  },
  {
    id: 'upstream-oidc/backchannel-duplicated-token',
    family: 'upstream-oidc',
    prepare: (ctx) => logoutToken(ctx),
    request: (_c, t: string) => ({
      path: '/upstream/corp/backchannel-logout',
      form: [
        ['logout_token', t],
        ['logout_token', 'x'],
      ],
    }),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'upstream-oidc/backchannel-nul', family: 'upstream-oidc', request: () => ({ path: '/upstream/corp/backchannel-logout', form: { logout_token: 'a\u0000b' } }), expect: oauth(400, 'invalid_request') },
  { id: 'upstream-oidc/backchannel-missing', family: 'upstream-oidc', request: () => ({ path: '/upstream/corp/backchannel-logout', form: {} }), expect: oauth(400, 'invalid_request') },
  {
    id: 'upstream-oidc/backchannel-not-oidc-provider',
    family: 'upstream-oidc',
    prepare: (ctx) => logoutToken(ctx),
    request: (_c, t: string) => ({ path: '/upstream/dev/backchannel-logout', form: { logout_token: t } }),
    expect: oauth(404, 'not_found'),
  },
];
