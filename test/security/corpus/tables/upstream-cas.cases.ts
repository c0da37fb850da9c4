import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Agent, page, type CorpusCase, type Expectation } from '../corpus-case.js';
import { startUpstreamLogin, type CorpusContext, type UpstreamLogin } from '../corpus-server.js';
import { fixtureText } from '../../../support/saml-forge.js';

/**
 * The CAS upstream: the service URL the browser returns to (/upstream/{id}/cas/service, forwarded
 * to the callback), the callback with its ticket (validated at the CAS stand-in), and Single
 * Logout (`logoutRequest` POSTs to the service URL and /cas/slo) — from an address outside
 * `slo_allowed_from` (campus) and, to reach the parser, from an allowed one (campus-lo).
 */
const logoutRequest = readFileSync(new URL('../../../unit/upstream/cas/fixtures/django-logout-request.xml', import.meta.url), 'utf8');
const success = (user: string) => () => `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>${user}</cas:user></cas:authenticationSuccess></cas:serviceResponse>`;
const failure = (code: string) => () => `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="${code}">refused</cas:authenticationFailure></cas:serviceResponse>`;
const ticket = () => `ST-${randomBytes(8).toString('hex')}`;

const callback = (
  what: string,
  t: (ctx: CorpusContext) => string,
  expect: Expectation = page(400),
  opts: { otherBrowser?: boolean; answer?: (ctx: CorpusContext, t: string) => void; state?: (l: UpstreamLogin) => string } = {},
): CorpusCase => ({
  id: `upstream-cas/callback-${what}`,
  family: 'upstream-cas',
  prepare: async (ctx) => {
    const login = await startUpstreamLogin(ctx, 'campus');
    const tk = t(ctx);
    opts.answer?.(ctx, tk);
    return { ...login, ticket: tk, ...(opts.otherBrowser ? { agent: new Agent() } : {}) };
  },
  request: (_ctx, l: UpstreamLogin & { ticket: string }) => ({ path: `/upstream/campus/callback?state=${encodeURIComponent(opts.state ? opts.state(l) : l.state!)}&ticket=${encodeURIComponent(l.ticket)}` }),
  expect,
});
const slo = (what: string, provider: string, form: Record<string, string> | Array<[string, string]>, expect: Expectation, path = 'slo'): CorpusCase => ({
  id: `upstream-cas/slo-${what}`,
  family: 'upstream-cas',
  request: () => ({ path: `/upstream/${provider}/cas/${path}`, form }),
  expect,
});

export const UPSTREAM_CAS_CASES: CorpusCase[] = [
  // Forged or misdirected tickets.
  callback(
    'forged-service-response-as-ticket',
    () => '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>victim</cas:user></cas:authenticationSuccess></cas:serviceResponse>',
  ),
  callback('proxy-ticket', () => 'PT-1-abc'),
  callback('proxy-granting-ticket', () => 'PGT-1-abc'),
  callback('ticket-with-spaces', () => 'ST-1 abc'),
  callback('ticket-overlong', () => `ST-${'a'.repeat(600)}`),
  callback('ticket-unicode', () => 'ST-ａｂｃ\u202E'),
  callback('ticket-missing', () => ''),
  callback('ticket-unknown-at-server', () => ticket()),
  callback('ticket-for-another-service', () => ticket(), page(400), { answer: (ctx, t) => ctx.cas.answers.set(t, failure('INVALID_SERVICE')) }),
  callback('ticket-invalid-spec', () => ticket(), page(400), { answer: (ctx, t) => ctx.cas.answers.set(t, failure('INVALID_TICKET_SPEC')) }),
  callback('ticket-in-another-browser-f1', () => ticket(), page(403), { otherBrowser: true, answer: (ctx, t) => ctx.cas.answers.set(t, success('victim')) }),
  callback('unknown-state', () => ticket(), page(400), { state: () => 'unknown-state' }),
  callback('state-of-another-provider', () => ticket(), page(400), { state: () => 'x'.repeat(40) }),
  {
    id: 'upstream-cas/callback-replayed-ticket',
    family: 'upstream-cas',
    prepare: async (ctx) => {
      const t = ticket();
      ctx.cas.answers.set(t, success(`cas-user-${randomBytes(3).toString('hex')}`));
      const first = await startUpstreamLogin(ctx, 'campus');
      await first.agent.send(ctx.url, { path: `/upstream/campus/callback?state=${encodeURIComponent(first.state!)}&ticket=${t}` });
      const second = await startUpstreamLogin(ctx, 'campus');
      return { ...second, ticket: t };
    },
    request: (_ctx, l: UpstreamLogin & { ticket: string }) => ({ path: `/upstream/campus/callback?state=${encodeURIComponent(l.state!)}&ticket=${l.ticket}` }),
    expect: page(400),
  },
  { id: 'upstream-cas/callback-post-forged-response', family: 'upstream-cas', request: () => ({ path: '/upstream/campus/callback', form: { ticket: 'ST-1', state: 'x' }, follow: true }), expect: page(400) },

  // The service URL.
  { id: 'upstream-cas/service-duplicated-ticket', family: 'upstream-cas', request: () => ({ path: '/upstream/campus/cas/service?state=s&ticket=ST-1&ticket=ST-2' }), expect: page(400) },
  { id: 'upstream-cas/service-duplicated-state', family: 'upstream-cas', request: () => ({ path: '/upstream/campus/cas/service?state=s&state=t&ticket=ST-1' }), expect: page(400) },
  { id: 'upstream-cas/service-overlong-ticket', family: 'upstream-cas', request: () => ({ path: `/upstream/campus/cas/service?state=s&ticket=ST-${'a'.repeat(600)}` }), expect: page(400) },
  { id: 'upstream-cas/service-nul', family: 'upstream-cas', request: () => ({ path: '/upstream/campus/cas/service?state=s&ticket=ST-1%00' }), expect: page(400) },
  { id: 'upstream-cas/service-unknown-provider', family: 'upstream-cas', request: () => ({ path: '/upstream/corp/cas/service?state=s&ticket=ST-1' }), expect: page(404) },

  // Single Logout from an address outside slo_allowed_from.
  slo('from-unlisted-address', 'campus', { logoutRequest }, page(403)),
  slo('from-unlisted-address-at-service-url', 'campus', { logoutRequest }, page(403), 'service?state=s'),
  {
    id: 'upstream-cas/slo-unlisted-with-forged-forwarded-for',
    family: 'upstream-cas',
    request: () => ({ path: '/upstream/campus/cas/slo', form: { logoutRequest }, headers: { 'x-forwarded-for': '192.0.2.10' } }),
    expect: page(403),
  },
  // From an allowed address: the parser's refusals.
  slo('doctype', 'campus-lo', { logoutRequest: `<!DOCTYPE x [<!ENTITY t "ST-1">]>${logoutRequest.replace(/ST-[A-Za-z0-9]+/, '&t;')}` }, page(400)),
  slo('xxe', 'campus-lo', { logoutRequest: fixtureText('xxe.xml') }, page(400)),
  slo('billion-laughs', 'campus-lo', { logoutRequest: fixtureText('billion-laughs.xml') }, page(400)),
  slo('not-xml', 'campus-lo', { logoutRequest: 'ST-1-abc' }, page(400)),
  slo('other-shape', 'campus-lo', { logoutRequest: '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"/>' }, page(400)),
  slo('proxy-granting-ticket', 'campus-lo', { logoutRequest: logoutRequest.replace(/ST-[A-Za-z0-9]+/, 'PGT-1') }, page(400)),
  slo('oversized', 'campus-lo', { logoutRequest: logoutRequest.replace('</samlp:LogoutRequest>', `<x>${'a'.repeat(20_000)}</x></samlp:LogoutRequest>`) }, page(413)),
  slo('missing', 'campus-lo', { other: 'x' }, page(400)),
  slo('empty', 'campus-lo', { logoutRequest: '' }, page(400)),
  slo(
    'duplicated',
    'campus-lo',
    [
      ['logoutRequest', logoutRequest],
      ['logoutRequest', 'x'],
    ],
    page(400),
  ),
  slo('nul', 'campus-lo', { logoutRequest: logoutRequest.replace('ST-', 'ST-\u0000') }, page(400)),
  slo('comment-in-ticket-ends-nothing', 'campus-lo', { logoutRequest: logoutRequest.replace(/(ST-[A-Za-z0-9]+)/, '$1<!-- -->x') }, { status: 200, text: /^ok$/ }),
  slo('unknown-ticket-ends-nothing', 'campus-lo', { logoutRequest }, { status: 200, text: /^ok$/ }),
  { id: 'upstream-cas/slo-json-body', family: 'upstream-cas', request: () => ({ path: '/upstream/campus-lo/cas/slo', json: { logoutRequest } }), expect: page(415) },
  { id: 'upstream-cas/slo-xml-body', family: 'upstream-cas', request: () => ({ path: '/upstream/campus-lo/cas/slo', body: logoutRequest, headers: { 'content-type': 'text/xml' } }), expect: page(415) },
];
