import { randomBytes } from 'node:crypto';
import { page, redirectError, startsLogin, type CorpusCase } from '../corpus-case.js';
import { CLIENT_URI, REDIRECT, type CorpusContext } from '../corpus-server.js';

/** GET /authorize: unredirectable errors are pages; everything after the redirect URI is trusted goes back to it with `error=`. */
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function query(ctx: CorpusContext, over: Record<string, string | null> = {}, extra: Array<[string, string]> = []): string {
  const p: Record<string, string | null> = {
    response_type: 'code',
    client_id: ctx.publicClient,
    redirect_uri: REDIRECT,
    scope: 'urn:matrix:client:api:* urn:matrix:client:device:CORPUS0001',
    state: 'st',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    ...over,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== null) q.append(k, v);
  for (const [k, v] of extra) q.append(k, v);
  return `/authorize?${q}`;
}

/** Redirect URIs that differ from the registered one in a way an attacker would try. */
const HOSTILE_REDIRECTS: Array<[string, string]> = [
  ['foreign host', 'https://evil.example/cb'],
  ['backslash userinfo trick', 'http://localhost:3000\\@evil.example/cb?no_universal_links=true'],
  ['userinfo naming the evil host', 'http://localhost:3000@evil.example/cb?no_universal_links=true'],
  ['userinfo before the right host', 'http://evil.example@localhost:3000/cb?no_universal_links=true'],
  ['other port', 'http://localhost:3001/cb?no_universal_links=true'],
  ['port 0', 'http://localhost:0/cb?no_universal_links=true'],
  ['port 99999', 'http://localhost:99999/cb?no_universal_links=true'],
  ['javascript scheme', 'javascript:alert(document.domain)//localhost:3000/cb'],
  ['data scheme', 'data:text/html,<script>alert(1)</script>'],
  ['scheme-relative', '//evil.example/cb'],
  ['path traversal', 'http://localhost:3000/cb/../evil?no_universal_links=true'],
  ['encoded path traversal', 'http://localhost:3000/cb/%2e%2e/evil?no_universal_links=true'],
  ['extra query parameter', 'http://localhost:3000/cb?no_universal_links=true&next=https://evil.example'],
  ['fragment added', 'http://localhost:3000/cb?no_universal_links=true#https://evil.example'],
  ['trailing dot host', 'http://localhost.:3000/cb?no_universal_links=true'],
  ['Cyrillic o in localhost (homograph)', 'http://lоcalhost:3000/cb?no_universal_links=true'],
  ['bidi override in the path', 'http://localhost:3000/cb\u202E?no_universal_links=true'],
  ['https instead of http', 'https://localhost:3000/cb?no_universal_links=true'],
  ['overlong', `http://localhost:3000/cb?no_universal_links=true&x=${'a'.repeat(8000)}`],
  ['not a URL', 'not a url'],
  ['file scheme', 'file:///etc/passwd'],
];

export const AUTHORIZE_CASES: CorpusCase[] = [
  // The client and redirect URI are not trusted yet: an HTML page, never a redirect.
  { id: 'authorize/missing-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: null }) }), expect: page(400) },
  { id: 'authorize/unknown-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: '01JUNKNOWNCLIENT0000000000' }) }), expect: page(400) },
  { id: 'authorize/nul-in-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: `${ctx.publicClient}\u0000` }) }), expect: page(400) },
  { id: 'authorize/newline-in-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: `${ctx.publicClient}\r\nX-Evil: 1` }) }), expect: page(400) },
  { id: 'authorize/duplicated-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, {}, [['client_id', ctx.otherClient]]) }), expect: page(400) },
  { id: 'authorize/overlong-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: 'A'.repeat(10_000) }) }), expect: page(400) },
  { id: 'authorize/confusable-client-id', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: ctx.publicClient.replace(/A/g, '\u0410') + '\u0410' }) }), expect: page(400) },
  { id: 'authorize/duplicated-redirect-uri', family: 'authorize', request: (ctx) => ({ path: query(ctx, {}, [['redirect_uri', 'https://evil.example/cb']]) }), expect: page(400) },
  { id: 'authorize/nul-in-redirect-uri', family: 'authorize', request: (ctx) => ({ path: query(ctx, { redirect_uri: `${REDIRECT}\u0000` }) }), expect: page(400) },
  { id: 'authorize/tab-in-redirect-uri', family: 'authorize', request: (ctx) => ({ path: query(ctx, { redirect_uri: 'http://localhost:3000/c\tb?no_universal_links=true' }) }), expect: page(400) },
  { id: 'authorize/other-clients-redirect-with-wrong-client', family: 'authorize', request: (ctx) => ({ path: query(ctx, { client_id: 'conf-basic' }) }), expect: page(400) },
  ...HOSTILE_REDIRECTS.map(([what, uri]): CorpusCase => ({
    id: `authorize/redirect-uri-${what.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`,
    family: 'authorize',
    request: (ctx) => ({ path: query(ctx, { redirect_uri: uri }) }),
    expect: page(400),
  })),

  // Trusted redirect URI: the error goes back to the client, with its state, and never a code.
  ...(
    [
      ['missing-code-challenge', { code_challenge: null, code_challenge_method: null }, 'invalid_request'],
      ['pkce-downgrade-to-plain', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['pkce-method-missing', { code_challenge_method: null }, 'invalid_request'],
      ['pkce-method-lowercase', { code_challenge_method: 's256' }, 'invalid_request'],
      ['code-challenge-too-short', { code_challenge: 'abc' }, 'invalid_request'],
      ['code-challenge-too-long', { code_challenge: 'a'.repeat(129) }, 'invalid_request'],
      ['code-challenge-bad-characters', { code_challenge: `${'a'.repeat(42)}+` }, 'invalid_request'],
      ['response-type-token', { response_type: 'token' }, 'unsupported_response_type'],
      ['response-type-hybrid', { response_type: 'code id_token' }, 'unsupported_response_type'],
      ['response-type-missing', { response_type: null }, 'invalid_request'],
      ['response-mode-form-post', { response_mode: 'form_post' }, 'invalid_request'],
      ['response-mode-web-message', { response_mode: 'web_message' }, 'invalid_request'],
      ['state-overlong', { state: 's'.repeat(5000) }, 'invalid_request'],
      ['request-object', { request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6InVybjpzeW5hcHNlOmFkbWluOioifQ.' }, 'request_not_supported'],
      ['request-uri', { request_uri: 'https://evil.example/request.jwt' }, 'request_uri_not_supported'],
      ['registration-parameter', { registration: '{"redirect_uris":["https://evil.example"]}' }, 'registration_not_supported'],
      ['scope-synapse-admin', { scope: 'urn:matrix:client:api:* urn:synapse:admin:* urn:matrix:client:device:CORPUS0001' }, 'invalid_scope'],
      ['scope-two-devices', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:AAAA urn:matrix:client:device:BBBB' }, 'invalid_scope'],
      ['scope-device-dot-dot', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:..' }, 'invalid_scope'],
      ['scope-device-bidi', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:AB\u202ECD' }, 'invalid_scope'],
      ['scope-device-quote', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:AB"CD' }, 'invalid_scope'],
      ['scope-device-backslash', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:AB\\CD' }, 'invalid_scope'],
      ['scope-device-overlong', { scope: `urn:matrix:client:api:* urn:matrix:client:device:${'D'.repeat(256)}` }, 'invalid_scope'],
      ['scope-device-non-ascii', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:DÉVICE' }, 'invalid_scope'],
      ['scope-device-empty', { scope: 'urn:matrix:client:api:* urn:matrix:client:device:' }, 'invalid_scope'],
      ['scope-mixed-namespaces', { scope: 'urn:matrix:client:api:* urn:matrix:org.matrix.msc2967.client:device:CORPUS0001' }, 'invalid_scope'],
      ['scope-fullwidth-colon', { scope: 'urn:matrix:client:api:* urn：synapse：admin：*' }, 'invalid_scope'],
      ['prompt-none-with-login', { prompt: 'none login' }, 'invalid_request'],
      ['prompt-none-without-session', { prompt: 'none' }, 'login_required'],
      ['nonce-overlong', { nonce: 'n'.repeat(600) }, 'invalid_request'],
      ['login-hint-overlong', { login_hint: 'h'.repeat(600) }, 'invalid_request'],
    ] as Array<[string, Record<string, string | null>, string]>
  ).map(([what, over, error]): CorpusCase => ({
    id: `authorize/${what}`,
    family: 'authorize',
    request: (ctx) => ({ path: query(ctx, over) }),
    expect: redirectError(error),
    mayRedirectTo: () => [new URL(CLIENT_URI).origin],
  })),
  ...(
    [
      ['duplicated-scope', 'scope', 'urn:synapse:admin:*'],
      ['duplicated-code-challenge', 'code_challenge', 'a'.repeat(43)],
      ['duplicated-response-type', 'response_type', 'token'],
      ['duplicated-state', 'state', 'other-state'],
      ['duplicated-code-challenge-method', 'code_challenge_method', 'plain'],
    ] as Array<[string, string, string]>
  ).map(([what, name, value]): CorpusCase => ({
    id: `authorize/${what}`,
    family: 'authorize',
    request: (ctx) => ({ path: query(ctx, {}, [[name, value]]) }),
    expect: redirectError('invalid_request'),
    mayRedirectTo: () => [new URL(CLIENT_URI).origin],
  })),
  // Control characters anywhere in the query are refused at the edge, as a page.
  { id: 'authorize/nul-in-scope', family: 'authorize', request: (ctx) => ({ path: query(ctx, { scope: 'openid\u0000urn:synapse:admin:*' }) }), expect: page(400) },
  { id: 'authorize/nul-in-state', family: 'authorize', request: (ctx) => ({ path: query(ctx, { state: 'a\u0000b' }) }), expect: page(400) },
  { id: 'authorize/crlf-in-state', family: 'authorize', request: (ctx) => ({ path: query(ctx, { state: 'a\r\nSet-Cookie: causeway_session=x' }) }), expect: page(400) },
  { id: 'authorize/nul-in-parameter-name', family: 'authorize', request: (ctx) => ({ path: `${query(ctx)}&a%00b=1` }), expect: page(400) },
  {
    id: 'authorize/malformed-percent-encoding',
    family: 'authorize',
    request: (ctx) => ({ path: `${query(ctx)}&state=%E0%A4%A` }),
    expect: redirectError('invalid_request'),
    mayRedirectTo: () => [new URL(CLIENT_URI).origin],
  },
  { id: 'authorize/unknown-provider-path-traversal', family: 'authorize', request: (ctx) => ({ path: query(ctx, { provider: '../../admin' }) }), expect: startsLogin },
  // A signed-in user who may not administer: the admin scopes are refused once we know who it is
  // (Synapse's at once for a registered client, Causeway's own when the grant is made).
  {
    id: 'authorize/victim-asks-synapse-admin',
    family: 'authorize',
    as: 'victim',
    request: (ctx) => ({ path: query(ctx, { scope: 'urn:matrix:client:api:* urn:synapse:admin:* urn:matrix:client:device:ADMDEV1' }), follow: true }),
    expect: redirectError('invalid_scope'),
    mayRedirectTo: () => [new URL(CLIENT_URI).origin],
  },
  // No consent page offering what the account cannot give: straight back with invalid_scope.
  {
    id: 'authorize/victim-asks-causeway-admin',
    family: 'authorize',
    as: 'victim',
    request: (ctx) => ({ path: query(ctx, { scope: 'urn:matrix:client:api:* urn:causeway:admin urn:matrix:client:device:ADMDEV2' }), follow: true }),
    expect: redirectError('invalid_scope'),
    mayRedirectTo: () => [new URL(CLIENT_URI).origin],
  },
  {
    id: 'authorize/victim-asks-causeway-admin-prompt-consent',
    family: 'authorize',
    as: 'victim',
    request: (ctx) => ({ path: query(ctx, { scope: 'urn:matrix:client:api:* urn:causeway:admin urn:matrix:client:device:ADMDEV3', prompt: 'consent' }), follow: true }),
    expect: redirectError('invalid_scope'),
    mayRedirectTo: () => [new URL(CLIENT_URI).origin],
  },
  { id: 'authorize/post-method', family: 'authorize', request: (ctx) => ({ method: 'POST', path: '/authorize', form: { client_id: ctx.publicClient, redirect_uri: REDIRECT } }), expect: page(404) },
  {
    id: 'authorize/random-state-reuse-of-other-client',
    family: 'authorize',
    request: (ctx) => ({ path: query(ctx, { client_id: ctx.otherClient, redirect_uri: `${REDIRECT}&x=${randomBytes(2).toString('hex')}` }) }),
    expect: page(400),
  },
];
