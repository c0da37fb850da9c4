import { Agent, page, type CorpusCase, type Expectation } from '../corpus-case.js';
import { SAML_IDP, startUpstreamLogin, type CorpusContext, type UpstreamLogin } from '../corpus-server.js';
import { HOSTILE_CASES, goodResponse, type LoginUnderAttack } from '../../../support/saml-hostile.js';
import { b64, fixtureKeys, fixtureText, logoutRequestXml, logoutResponseXml, newId, redirectQuery } from '../../../support/saml-forge.js';

/**
 * The SAML upstream: the ACS (/upstream/forged/callback, HTTP-POST, parked and resumed in the
 * bound browser), Single Logout (/upstream/forged/saml/slo, Redirect and POST bindings) and the SP
 * metadata. The responses are the shared hostile set (test/support/saml-hostile.ts: unsigned,
 * wrapped, XXE, comment injection, wrong audience/recipient/destination, expired, replayed…) posted
 * for a real login of this server.
 */
const idp = fixtureKeys('idp');
const attacker = fixtureKeys('attacker');
const acs = (ctx: CorpusContext) => `${ctx.url}/upstream/forged/callback`;
const SLO = '/upstream/forged/saml/slo';

async function underAttack(ctx: CorpusContext): Promise<UpstreamLogin & { l: LoginUnderAttack }> {
  const login = await startUpstreamLogin(ctx, 'forged');
  const other = await startUpstreamLogin(ctx, 'forged');
  const l: LoginUnderAttack = { idpEntityId: SAML_IDP, spEntityId: `${ctx.url}/upstream/forged/saml/metadata`, acsUrl: acs(ctx), requestId: login.requestId!, otherRequestId: other.requestId! };
  return { ...login, l };
}
const acsCase = (id: string, build: (l: LoginUnderAttack, ctx: CorpusContext) => string, expect: Expectation, opts: { otherBrowser?: boolean; relayState?: (l: UpstreamLogin) => string } = {}): CorpusCase => ({
  id: `upstream-saml/${id}`,
  family: 'upstream-saml',
  prepare: async (ctx) => {
    const p = await underAttack(ctx);
    return opts.otherBrowser ? { ...p, agent: new Agent() } : p;
  },
  request: (ctx, p: UpstreamLogin & { l: LoginUnderAttack }) => ({
    path: '/upstream/forged/callback',
    form: { SAMLResponse: build(p.l, ctx), RelayState: opts.relayState ? opts.relayState(p) : p.relayState! },
    follow: true,
  }),
  expect,
});
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
const logoutRequest = (ctx: CorpusContext, over: Partial<Parameters<typeof logoutRequestXml>[0]> = {}) =>
  logoutRequestXml({ idpEntityId: SAML_IDP, destination: `${ctx.url}${SLO}`, nameId: 'opaque-victim', sessionIndex: newId(), ...over });

export const UPSTREAM_SAML_CASES: CorpusCase[] = [
  ...HOSTILE_CASES.map((h) => acsCase(`acs-${slug(h.name)}`, (l) => h.build(l), page(400, h.says))),
  acsCase('acs-good-response-in-another-browser-f1', (l) => b64(goodResponse(l)), page(403), { otherBrowser: true }),
  acsCase('acs-good-response-with-foreign-relay-state', (l) => b64(goodResponse(l)), page(400), { relayState: () => 'https://evil.example/' }),
  acsCase('acs-nul-in-response', () => 'PHNhbWxwOlJlc3BvbnNl\u0000', page(400)),
  acsCase('acs-empty-response', () => '', page(400)),
  acsCase('acs-response-is-a-logout-request', (_l, ctx) => b64(logoutRequest(ctx)), page(400)),
  {
    id: 'upstream-saml/acs-replayed-in-response-to',
    family: 'upstream-saml',
    prepare: async (ctx) => {
      const p = await underAttack(ctx);
      const response = b64(goodResponse(p.l));
      // The legitimate delivery, in the bound browser: signs in there.
      await p.agent.send(ctx.url, { path: '/upstream/forged/callback', form: { SAMLResponse: response, RelayState: p.relayState! }, follow: true });
      return { response, relayState: p.relayState, agent: new Agent() };
    },
    request: (_ctx, p: { response: string; relayState: string }) => ({ path: '/upstream/forged/callback', form: { SAMLResponse: p.response, RelayState: p.relayState }, follow: true }),
    expect: page(400),
  },
  {
    id: 'upstream-saml/acs-get-binding',
    family: 'upstream-saml',
    prepare: underAttack,
    request: (_ctx, p: UpstreamLogin & { l: LoginUnderAttack }) => ({ path: `/upstream/forged/callback?${new URLSearchParams({ SAMLResponse: b64(goodResponse(p.l)), RelayState: p.relayState! })}` }),
    expect: page(400, /HTTP-POST/),
  },
  { id: 'upstream-saml/acs-oversized', family: 'upstream-saml', request: () => ({ path: '/upstream/forged/callback', form: { SAMLResponse: 'A'.repeat(80 * 1024), RelayState: 'x' } }), expect: page(413) },
  {
    id: 'upstream-saml/acs-xml-content-type',
    family: 'upstream-saml',
    request: () => ({ path: '/upstream/forged/callback', body: fixtureText('xxe.xml'), headers: { 'content-type': 'application/xml' } }),
    expect: page(415),
  },
  { id: 'upstream-saml/acs-json-body', family: 'upstream-saml', request: () => ({ path: '/upstream/forged/callback', json: { SAMLResponse: 'x', RelayState: 'y' } }), expect: page(400) },

  // Single Logout.
  { id: 'upstream-saml/slo-get-nothing', family: 'upstream-saml', request: () => ({ path: SLO }), expect: page(400) },
  { id: 'upstream-saml/slo-unsigned-request', family: 'upstream-saml', request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx), { relayState: 'rs' })}` }), expect: page(400) },
  {
    id: 'upstream-saml/slo-request-signed-by-attacker',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx), { relayState: 'rs', signer: attacker })}` }),
    expect: page(400),
  },
  {
    id: 'upstream-saml/slo-request-sha1',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx), { signer: idp, sigAlg: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' })}` }),
    expect: page(400),
  },
  {
    id: 'upstream-saml/slo-request-wrong-issuer',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx, { idpEntityId: 'https://evil.example/idp' }), { signer: idp })}` }),
    expect: page(400),
  },
  {
    id: 'upstream-saml/slo-request-wrong-destination',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx, { destination: 'https://other-sp.example/slo' }), { signer: idp })}` }),
    expect: page(400),
  },
  {
    id: 'upstream-saml/slo-request-expired',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx, { issuedAt: Date.now() - 3 * 3600_000 }), { signer: idp })}` }),
    expect: page(400),
  },
  { id: 'upstream-saml/slo-request-with-dtd', family: 'upstream-saml', request: () => ({ path: `${SLO}?${redirectQuery('SAMLRequest', fixtureText('xxe.xml'), { signer: idp })}` }), expect: page(400) },
  { id: 'upstream-saml/slo-request-billion-laughs', family: 'upstream-saml', request: () => ({ path: `${SLO}?${redirectQuery('SAMLRequest', fixtureText('billion-laughs.xml'), { signer: idp })}` }), expect: page(400) },
  { id: 'upstream-saml/slo-request-not-deflated', family: 'upstream-saml', request: (ctx) => ({ path: `${SLO}?SAMLRequest=${encodeURIComponent(b64(logoutRequest(ctx)))}` }), expect: page(400) },
  { id: 'upstream-saml/slo-request-bad-base64', family: 'upstream-saml', request: () => ({ path: `${SLO}?SAMLRequest=!!!notbase64***` }), expect: page(400) },
  { id: 'upstream-saml/slo-request-duplicated', family: 'upstream-saml', request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLRequest', logoutRequest(ctx), { signer: idp })}&SAMLRequest=x` }), expect: page(400) },
  {
    id: 'upstream-saml/slo-response-unknown-in-response-to',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLResponse', logoutResponseXml({ idpEntityId: SAML_IDP, destination: `${ctx.url}${SLO}`, inResponseTo: newId() }), { signer: idp, relayState: 'x' })}` }),
    expect: page(400),
  },
  {
    id: 'upstream-saml/slo-response-unsigned',
    family: 'upstream-saml',
    request: (ctx) => ({ path: `${SLO}?${redirectQuery('SAMLResponse', logoutResponseXml({ idpEntityId: SAML_IDP, destination: `${ctx.url}${SLO}`, inResponseTo: newId() }), { relayState: 'x' })}` }),
    expect: page(400),
  },
  { id: 'upstream-saml/slo-post-unsigned', family: 'upstream-saml', request: (ctx) => ({ path: SLO, form: { SAMLRequest: b64(logoutRequest(ctx)), RelayState: 'rs' } }), expect: page(400) },
  { id: 'upstream-saml/slo-post-xxe', family: 'upstream-saml', request: () => ({ path: SLO, form: { SAMLRequest: b64(fixtureText('xxe.xml')) } }), expect: page(400) },
  { id: 'upstream-saml/slo-post-oversized', family: 'upstream-saml', request: () => ({ path: SLO, form: { SAMLRequest: 'A'.repeat(80 * 1024) } }), expect: page(413) },
  { id: 'upstream-saml/slo-nul', family: 'upstream-saml', request: () => ({ path: `${SLO}?SAMLRequest=a%00b` }), expect: page(400) },

  // Metadata.
  { id: 'upstream-saml/metadata-of-non-saml-provider', family: 'upstream-saml', request: () => ({ path: '/upstream/dev/saml/metadata' }), expect: page(404) },
  { id: 'upstream-saml/metadata-unknown-provider', family: 'upstream-saml', request: () => ({ path: '/upstream/..%2F..%2Fetc/saml/metadata' }), expect: page(404) },
  { id: 'upstream-saml/slo-of-non-saml-provider', family: 'upstream-saml', request: () => ({ path: '/upstream/corp/saml/slo?SAMLRequest=x' }), expect: page(404) },
];
