import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { page, type CorpusCase, type CorpusCase as C } from '../corpus-case.js';
import { REDIRECT, type CorpusContext } from '../corpus-server.js';

/**
 * RP-initiated logout (/end-session): redirects only to a registered post_logout_redirect_uri and
 * only with a valid id_token_hint (F9); a sign-out needs the page's CSRF token. A refused request
 * must leave the victim signed in.
 */
const q = (p: Record<string, string>) => `/end-session?${new URLSearchParams(p)}`;
const now = () => Math.floor(Date.now() / 1000);
const forgedKey = generateKeyPair('RS256');
const hint = async (ctx: CorpusContext, kind: 'none' | 'foreign-key' | 'hs256' | 'wrong-iss') => {
  const claims = { iss: kind === 'wrong-iss' ? 'https://evil.example/' : `${ctx.url}/`, sub: 'victim', aud: ctx.publicClient, iat: now(), exp: now() + 300 };
  if (kind === 'none') return new UnsecuredJWT(claims).encode();
  if (kind === 'hs256') return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('guessed-secret-guessed-secret-32b'));
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'forged' }).sign((await forgedKey).privateKey);
};

/** The victim is still signed in after the case (their account page shows them). */
async function victimSignedIn(ctx: CorpusContext) {
  const res = await ctx.victim.browser.request(`${ctx.url}/account/`);
  return res.status === 200 && res.body.includes('@victim:') ? undefined : 'the victim was signed out';
}

const withHint = (what: string, kind: Parameters<typeof hint>[1]): C => ({
  id: `end-session/id-token-hint-${what}`,
  family: 'end-session',
  prepare: (ctx) => hint(ctx, kind),
  request: (ctx, h: string) => ({ path: q({ id_token_hint: h, post_logout_redirect_uri: REDIRECT, client_id: ctx.publicClient, state: 's' }) }),
  expect: page(400),
});

export const END_SESSION_CASES: CorpusCase[] = [
  { id: 'end-session/redirect-without-client', family: 'end-session', request: () => ({ path: q({ post_logout_redirect_uri: 'https://evil.example/' }) }), expect: page(400) },
  { id: 'end-session/redirect-unknown-client', family: 'end-session', request: () => ({ path: q({ client_id: 'nobody', post_logout_redirect_uri: 'https://evil.example/' }) }), expect: page(400) },
  { id: 'end-session/redirect-unregistered', family: 'end-session', request: (ctx) => ({ path: q({ client_id: ctx.publicClient, post_logout_redirect_uri: 'https://evil.example/' }) }), expect: page(400) },
  {
    id: 'end-session/redirect-backslash-variant',
    family: 'end-session',
    request: (ctx) => ({ path: q({ client_id: ctx.publicClient, post_logout_redirect_uri: 'http://localhost:3000\\@evil.example/cb?no_universal_links=true' }) }),
    expect: page(400),
  },
  {
    id: 'end-session/redirect-userinfo-variant',
    family: 'end-session',
    request: (ctx) => ({ path: q({ client_id: ctx.publicClient, post_logout_redirect_uri: 'http://evil.example@localhost:3000/cb?no_universal_links=true' }) }),
    expect: page(400),
  },
  { id: 'end-session/redirect-javascript', family: 'end-session', request: (ctx) => ({ path: q({ client_id: ctx.publicClient, post_logout_redirect_uri: 'javascript:alert(1)' }) }), expect: page(400) },
  {
    id: 'end-session/registered-redirect-without-hint-stays',
    family: 'end-session',
    request: (ctx) => ({ path: q({ client_id: ctx.publicClient, post_logout_redirect_uri: REDIRECT, state: 's' }) }),
    expect: { status: 200, grantsNothing: (body) => (body.includes('localhost:3000') ? 'the page links to the redirect URI without an id_token_hint' : undefined) },
  },
  withHint('alg-none', 'none'),
  withHint('foreign-key', 'foreign-key'),
  withHint('hs256-confusion', 'hs256'),
  withHint('wrong-issuer', 'wrong-iss'),
  { id: 'end-session/id-token-hint-garbage', family: 'end-session', request: (ctx) => ({ path: q({ id_token_hint: 'not.a.jwt', client_id: ctx.publicClient, post_logout_redirect_uri: REDIRECT }) }), expect: page(400) },
  { id: 'end-session/id-token-hint-overlong', family: 'end-session', request: (ctx) => ({ path: q({ id_token_hint: 'e'.repeat(10_000), client_id: ctx.publicClient }) }), expect: page(400) },
  { id: 'end-session/nul-in-client-id', family: 'end-session', request: () => ({ path: q({ client_id: 'a\u0000b', post_logout_redirect_uri: REDIRECT }) }), expect: page(400) },
  { id: 'end-session/nul-in-redirect', family: 'end-session', request: (ctx) => ({ path: q({ client_id: ctx.publicClient, post_logout_redirect_uri: `${REDIRECT}\u0000` }) }), expect: page(400) },
  {
    id: 'end-session/duplicated-redirect',
    family: 'end-session',
    request: (ctx) => ({ path: `${q({ client_id: ctx.publicClient, post_logout_redirect_uri: 'https://evil.example/' })}&post_logout_redirect_uri=${encodeURIComponent(REDIRECT)}` }),
    expect: page(400),
  },
  { id: 'end-session/victim-post-without-csrf', family: 'end-session', as: 'victim', request: () => ({ path: '/end-session', form: {} }), expect: page(403), after: victimSignedIn },
  { id: 'end-session/victim-post-forged-csrf', family: 'end-session', as: 'victim', request: () => ({ path: '/end-session', form: { _csrf: 'forged' } }), expect: page(403), after: victimSignedIn },
  { id: 'end-session/victim-post-json', family: 'end-session', as: 'victim', request: () => ({ path: '/end-session', json: { _csrf: 'x' } }), expect: page(403), after: victimSignedIn },
  {
    id: 'end-session/victim-post-text-plain',
    family: 'end-session',
    as: 'victim',
    request: () => ({ path: '/end-session', body: '_csrf=x', headers: { 'content-type': 'text/plain' } }),
    expect: page(403),
    after: victimSignedIn,
  },
  { id: 'end-session/done-unknown-state', family: 'end-session', request: () => ({ path: '/end-session/done?state=unknown-state' }), expect: { status: 200, grantsNothing: () => undefined } },
  { id: 'end-session/done-overlong-state', family: 'end-session', request: () => ({ path: `/end-session/done?state=${'s'.repeat(4000)}` }), expect: { status: 200, grantsNothing: () => undefined } },
];
