import { Agent, oauth, page, type CorpusCase, type Expectation } from '../corpus-case.js';
import { CONF, type CorpusContext } from '../corpus-server.js';

/** POST /oauth2/device (RFC 8628) and the verification page /link with its CSRF-protected form. */
const device = (f: Record<string, string> | Array<[string, string]>) => ({ path: '/oauth2/device', form: f, headers: { accept: 'application/json' } });
const scope = (id: string) => `urn:matrix:client:api:* urn:matrix:client:device:${id}`;

/** An agent that opened /link: its CSRF cookie and the form's token. */
async function linkForm(ctx: CorpusContext) {
  const agent = new Agent();
  const [hop] = await agent.send(ctx.url, { path: '/link' });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(hop!.body)?.[1];
  if (!csrf) throw new Error('no CSRF token on /link');
  return { agent, csrf };
}
const noMarkup = (needle: string): Expectation => ({ status: 200, grantsNothing: (body) => (body.includes(needle) ? `reflected ${needle}` : undefined) });

export const DEVICE_CASES: CorpusCase[] = [
  { id: 'device/json-body', family: 'device', request: (ctx) => ({ path: '/oauth2/device', json: { client_id: ctx.publicClient, scope: scope('JSONDEV') } }), expect: oauth(400, 'invalid_request') },
  { id: 'device/no-client', family: 'device', request: () => device({ scope: scope('NOCLIENT') }), expect: oauth(401, 'invalid_client') },
  { id: 'device/unknown-client', family: 'device', request: () => device({ client_id: 'nobody', scope: scope('UNKNOWN') }), expect: oauth(401, 'invalid_client') },
  { id: 'device/nul-in-client-id', family: 'device', request: () => device({ client_id: 'a\u0000b' }), expect: oauth(400, 'invalid_request') },
  { id: 'device/confidential-without-secret', family: 'device', request: () => device({ client_id: CONF.id, scope: scope('CONFDEV') }), expect: oauth(401, 'invalid_client') },
  {
    id: 'device/duplicated-client-id',
    family: 'device',
    request: (ctx) =>
      device([
        ['client_id', ctx.publicClient],
        ['client_id', ctx.otherClient],
      ]),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'device/scope-synapse-admin', family: 'device', request: (ctx) => device({ client_id: ctx.publicClient, scope: `${scope('ADMDEV')} urn:synapse:admin:*` }), expect: oauth(400, 'invalid_scope') },
  {
    id: 'device/scope-unstable-admin-namespace',
    family: 'device',
    request: (ctx) => device({ client_id: ctx.publicClient, scope: 'urn:matrix:org.matrix.msc2967.client:api:* urn:matrix:client:device:MIXED' }),
    expect: oauth(400, 'invalid_scope'),
  },
  { id: 'device/scope-device-dot-dot', family: 'device', request: (ctx) => device({ client_id: ctx.publicClient, scope: scope('..') }), expect: oauth(400, 'invalid_scope') },
  { id: 'device/scope-device-bidi', family: 'device', request: (ctx) => device({ client_id: ctx.publicClient, scope: scope('AB\u202ECD') }), expect: oauth(400, 'invalid_scope') },
  { id: 'device/scope-device-space-smuggled', family: 'device', request: (ctx) => device({ client_id: ctx.publicClient, scope: `${scope('A')}\u00A0urn:synapse:admin:*` }), expect: oauth(400, 'invalid_scope') },
  { id: 'device/scope-two-devices', family: 'device', request: (ctx) => device({ client_id: ctx.publicClient, scope: `${scope('ONE')} urn:matrix:client:device:TWO` }), expect: oauth(400, 'invalid_scope') },
  { id: 'device/scope-overlong-device', family: 'device', request: (ctx) => device({ client_id: ctx.publicClient, scope: scope('D'.repeat(300)) }), expect: oauth(400, 'invalid_scope') },
  {
    id: 'device/oversized-body',
    family: 'device',
    request: (ctx) => ({ path: '/oauth2/device', body: `client_id=${ctx.publicClient}&scope=${'a'.repeat(80 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    expect: oauth(413, 'invalid_request'),
  },

  // The verification page.
  { id: 'device/link-reflects-no-markup', family: 'device', request: () => ({ path: `/link?code=${encodeURIComponent('"><script>alert(1)</script>')}` }), expect: noMarkup('<script>alert(1)') },
  { id: 'device/link-nul-in-code', family: 'device', request: () => ({ path: '/link?code=AB%00CD' }), expect: page(400) },
  { id: 'device/link-post-without-csrf', family: 'device', request: (ctx) => ({ path: '/link', form: { code: ctx.device.userCode } }), expect: page(403) },
  { id: 'device/link-post-forged-csrf', family: 'device', request: (ctx) => ({ path: '/link', form: { code: ctx.device.userCode, _csrf: 'forged-token' } }), expect: page(403) },
  {
    id: 'device/link-post-csrf-from-another-browser',
    family: 'device',
    prepare: async (ctx) => ({ csrf: (await linkForm(ctx)).csrf }),
    request: (ctx, p) => ({ path: '/link', form: { code: ctx.device.userCode, _csrf: p.csrf } }),
    expect: page(403),
  },
  { id: 'device/link-post-wrong-code', family: 'device', prepare: linkForm, request: (_ctx, p) => ({ path: '/link', form: { code: 'ZZZZ-ZZZZ', _csrf: p.csrf } }), expect: page(400) },
  { id: 'device/link-post-device-code-as-user-code', family: 'device', prepare: linkForm, request: (ctx, p) => ({ path: '/link', form: { code: ctx.device.deviceCode.slice(0, 32), _csrf: p.csrf } }), expect: page(400) },
  { id: 'device/link-post-overlong-code', family: 'device', prepare: linkForm, request: (_ctx, p) => ({ path: '/link', form: { code: 'A'.repeat(5000), _csrf: p.csrf } }), expect: page(400) },
  { id: 'device/link-post-nul-in-code', family: 'device', prepare: linkForm, request: (_ctx, p) => ({ path: '/link', form: { code: 'AB\u0000CD', _csrf: p.csrf } }), expect: page(400) },
  { id: 'device/link-post-unicode-code', family: 'device', prepare: linkForm, request: (_ctx, p) => ({ path: '/link', form: { code: 'ＡＢＣＤ-ＥＦＧＨ', _csrf: p.csrf } }), expect: page(400) },
  { id: 'device/link-post-json-without-csrf', family: 'device', request: (ctx) => ({ path: '/link', json: { code: ctx.device.userCode } }), expect: page(403) },
  { id: 'device/link-post-empty-code', family: 'device', prepare: linkForm, request: (_ctx, p) => ({ path: '/link', form: { code: '   ', _csrf: p.csrf } }), expect: page(400) },
];
