import { Agent, page, type CorpusCase, type Expectation } from '../corpus-case.js';
import type { CorpusContext } from '../corpus-server.js';
import { Browser } from '../../../support/browser.js';
import { authorizeUrl, decide, devSignIn, pkce, toClient } from '../../../integration/login/login-flow.js';

/**
 * The account pages (/account/, sign-in methods), the login pages (/login/{id}/…) and the language
 * switch: every form needs the CSRF token of the signed-in session; a refused form leaves the
 * victim signed in and their account as it was.
 */
async function victimSignedIn(ctx: CorpusContext) {
  const res = await ctx.victim.browser.request(`${ctx.url}/account/`);
  return res.status === 200 && res.body.includes('@victim:') ? undefined : 'the victim was signed out or their account changed';
}
/** The CSRF token an attacker gets from their own signed-in session (another user). */
async function attackerCsrf(ctx: CorpusContext) {
  const b = new Browser();
  const { challenge } = pkce();
  let res = await b.go(authorizeUrl(ctx.url, { clientId: ctx.publicClient, challenge, extra: { provider: 'dev' } }), {}, toClient);
  res = await devSignIn(b, res, `mallory${Math.floor(Math.random() * 1e6)}`);
  if (!res.stoppedAt) await decide(b, res, 'allow');
  const acct = await b.request(`${ctx.url}/account/`);
  return /name="_csrf" value="([^"]+)"/.exec(acct.body)?.[1] ?? 'none';
}
const noReflection = (needle: string): Expectation => ({ status: 200, grantsNothing: (body) => (body.includes(needle) ? `reflected ${needle}` : undefined) });
const victimForm = (id: string, path: string, form: Record<string, string>, expect: Expectation = page(403)): CorpusCase => ({
  id: `account/${id}`,
  family: 'account',
  as: 'victim',
  request: () => ({ path, form }),
  expect,
  after: victimSignedIn,
});

export const ACCOUNT_CASES: CorpusCase[] = [
  // Without a session: nothing to act on.
  { id: 'account/end-session-signed-out', family: 'account', request: () => ({ path: '/account/sessions/end', form: { session_id: '01J0000000000000000000000' } }), expect: page(403) },
  { id: 'account/deactivate-signed-out', family: 'account', request: () => ({ path: '/account/deactivate', form: { confirm: 'yes' } }), expect: page(403) },
  { id: 'account/cross-signing-signed-out', family: 'account', request: () => ({ path: '/account/cross-signing-reset', form: {} }), expect: page(403) },
  { id: 'account/links-add-signed-out', family: 'account', request: () => ({ path: '/account/links/add', form: { provider: 'corp' } }), expect: page(403) },
  { id: 'account/links-remove-signed-out', family: 'account', request: () => ({ path: '/account/links/remove', form: { link_id: '01J0000000000000000000000' } }), expect: page(403) },
  {
    id: 'account/forged-session-cookie',
    family: 'account',
    request: () => ({ path: '/account/deactivate', form: { confirm: 'yes' }, headers: { cookie: 'causeway_session=01J0000000000000000000000.forgedsignature' } }),
    expect: page(403),
  },

  // The victim's browser, made to post by a hostile page: no CSRF token, a forged one, another user's.
  victimForm('victim-end-session-without-csrf', '/account/sessions/end', { session_id: '01J0000000000000000000000' }),
  victimForm('victim-deactivate-without-csrf', '/account/deactivate', { confirm: 'yes', erase: 'yes' }),
  victimForm('victim-deactivate-forged-csrf', '/account/deactivate', { confirm: 'yes', _csrf: 'AAAA-forged' }),
  victimForm('victim-cross-signing-without-csrf', '/account/cross-signing-reset', {}),
  victimForm('victim-links-add-without-csrf', '/account/links/add', { provider: 'corp' }),
  victimForm('victim-links-remove-without-csrf', '/account/links/remove', { link_id: '01J0000000000000000000000' }),
  {
    id: 'account/victim-deactivate-with-attackers-csrf',
    family: 'account',
    as: 'victim',
    prepare: attackerCsrf,
    request: (_ctx, csrf: string) => ({ path: '/account/deactivate', form: { confirm: 'yes', _csrf: csrf } }),
    expect: page(403),
    after: victimSignedIn,
  },
  { id: 'account/victim-deactivate-json', family: 'account', as: 'victim', request: () => ({ path: '/account/deactivate', json: { confirm: 'yes' } }), expect: page(403), after: victimSignedIn },
  {
    id: 'account/victim-deactivate-text-plain',
    family: 'account',
    as: 'victim',
    request: () => ({ path: '/account/deactivate', body: 'confirm=yes', headers: { 'content-type': 'text/plain' } }),
    expect: page(403),
    after: victimSignedIn,
  },
  {
    id: 'account/victim-deactivate-oversized',
    family: 'account',
    as: 'victim',
    request: () => ({ path: '/account/deactivate', body: `confirm=yes&x=${'a'.repeat(80 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: page(413),
    after: victimSignedIn,
  },
  { id: 'account/victim-deactivate-nul', family: 'account', as: 'victim', request: () => ({ path: '/account/deactivate', form: { confirm: 'yes\u0000' } }), expect: page(400), after: victimSignedIn },

  // Query strings of the pages.
  { id: 'account/device-id-nul', family: 'account', as: 'victim', request: () => ({ path: '/account/?action=org.matrix.session_view&device_id=A%00B' }), expect: page(400) },
  {
    id: 'account/action-markup-not-reflected',
    family: 'account',
    as: 'victim',
    request: () => ({ path: `/account/?action=${encodeURIComponent('"><img src=x onerror=alert(1)>')}` }),
    expect: noReflection('<img src=x onerror'),
  },
  {
    id: 'account/device-id-markup-not-reflected',
    family: 'account',
    as: 'victim',
    request: () => ({ path: `/account/?action=org.matrix.session_view&device_id=${encodeURIComponent('<script>alert(1)</script>')}` }),
    expect: { status: 404, page: true },
  },
  { id: 'account/links-remove-nul', family: 'account', as: 'victim', request: () => ({ path: '/account/links/remove?link=A%00B' }), expect: page(400) },
  { id: 'account/links-remove-foreign-link', family: 'account', as: 'victim', request: () => ({ path: '/account/links/remove?link=01J0000000000000000000000' }), expect: page(404) },
  { id: 'account/path-traversal', family: 'account', request: () => ({ path: '/account/..%2F..%2Fapi%2Fadmin%2Fv1%2Fusers' }), expect: page(404) },
  { id: 'account/dot-segments', family: 'account', request: () => ({ path: '/account/%2e%2e/%2e%2e/etc/passwd' }), expect: page(404) },

  // The login pages: someone else's login, a forged id, steps out of order.
  { id: 'account/login-unknown-id', family: 'account', request: () => ({ path: '/login/01J0000000000000000000000' }), expect: page(403) },
  { id: 'account/login-nul-id', family: 'account', request: () => ({ path: '/login/a%00b' }), expect: page(400) },
  { id: 'account/login-overlong-id', family: 'account', request: () => ({ path: `/login/${'A'.repeat(400)}` }), expect: page(403) },
  {
    id: 'account/login-of-another-browser',
    family: 'account',
    prepare: async (ctx) => {
      const other = new Agent();
      const hops = await other.send(ctx.url, { path: '/account/' });
      const id = /\/login\/([A-Z0-9]{26})/.exec(hops.map((h) => `${h.location ?? ''} ${h.body}`).join(' '))?.[1];
      if (!id) throw new Error('no login id');
      return id;
    },
    request: (_ctx, id: string) => ({ path: `/login/${id}` }),
    expect: page(403),
  },
  {
    id: 'account/login-consent-of-another-browser',
    family: 'account',
    prepare: async (ctx) => {
      const other = new Agent();
      const hops = await other.send(ctx.url, { path: '/account/' });
      return /\/login\/([A-Z0-9]{26})/.exec(hops.map((h) => `${h.location ?? ''} ${h.body}`).join(' '))?.[1];
    },
    request: (_ctx, id: string) => ({ path: `/login/${id}/consent`, form: { decision: 'allow' } }),
    expect: page(403),
  },
  { id: 'account/login-provider-unknown-login', family: 'account', request: () => ({ path: '/login/01J0000000000000000000000/provider', form: { provider: 'dev' } }), expect: page(403) },
  { id: 'account/login-register-unknown-login', family: 'account', request: () => ({ path: '/login/01J0000000000000000000000/register', form: { localpart: 'admin' } }), expect: page(403) },
  { id: 'account/login-cancel-unknown-login', family: 'account', request: () => ({ path: '/login/01J0000000000000000000000/cancel', form: {} }), expect: page(403) },

  // The language switch: back to a page of this server only.
  ...(
    [
      ['foreign', 'https://evil.example/'],
      ['scheme-relative', '//evil.example/'],
      ['backslash', '/\\evil.example/'],
      ['javascript', 'javascript:alert(1)'],
      ['userinfo', 'http://127.0.0.1@evil.example/'],
      ['encoded-newline', '/account/%0d%0aSet-Cookie:%20causeway_session=x'],
    ] as Array<[string, string]>
  ).map(([what, back]): CorpusCase => ({
    id: `account/language-return-${what}`,
    family: 'account',
    request: () => ({ path: `/language?lang=fr&return=${encodeURIComponent(back)}` }),
    expect: { status: 303, grantsNothing: (_b, hop) => (hop.location && new URL(hop.location).host === new URL(hop.url).host ? undefined : `sent to ${hop.location}`) },
  })),
];
