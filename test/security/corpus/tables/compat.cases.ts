import { matrix, page, startsLogin, type CorpusCase, type RequestSpec } from '../corpus-case.js';
import { APP_REDIRECT } from '../corpus-server.js';

/** The MSC3824 compatibility layer: /login, /refresh, /logout(/all), the SSO redirect and its completion page. */
const V3 = '/_matrix/client/v3';
const raw = (path: string, body: string, contentType?: string): RequestSpec => ({ path, body, headers: contentType ? { 'content-type': contentType } : {} });
const login = (body: unknown): RequestSpec => ({ path: `${V3}/login`, json: body });
const sso = (redirectUrl: string | null, extra = '') => `${V3}/login/sso/redirect${extra}${redirectUrl === null ? '' : `?redirectUrl=${encodeURIComponent(redirectUrl)}`}`;
const tokenLogin = (over: Record<string, unknown>) => login({ type: 'm.login.token', token: 'syl_notatoken', ...over });

export const COMPAT_CASES: CorpusCase[] = [
  // POST /login: JSON only, Matrix errors, a login token used at most once.
  { id: 'compat/login-malformed-json', family: 'compat', request: () => raw(`${V3}/login`, '{"type":"m.login.token",', 'application/json'), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'compat/login-form-body', family: 'compat', request: () => raw(`${V3}/login`, 'type=m.login.token&token=x', 'application/x-www-form-urlencoded'), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'compat/login-no-content-type-not-json', family: 'compat', request: () => raw(`${V3}/login`, 'type=m.login.token'), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'compat/login-empty-body', family: 'compat', request: () => raw(`${V3}/login`, '', 'application/json'), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'compat/login-json-array', family: 'compat', request: () => login([{ type: 'm.login.token' }]), expect: matrix(400, 'M_BAD_JSON') },
  {
    id: 'compat/login-deeply-nested',
    family: 'compat',
    request: () => raw(`${V3}/login`, `{"type":"m.login.token","token":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'application/json'),
    expect: matrix(413, 'M_TOO_LARGE'),
  },
  {
    id: 'compat/login-moderately-nested',
    family: 'compat',
    request: () => raw(`${V3}/login`, `{"type":"m.login.token","token":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'application/json'),
    expect: matrix(400, 'M_BAD_JSON'),
  },
  { id: 'compat/login-oversized', family: 'compat', request: () => tokenLogin({ initial_device_display_name: 'x'.repeat(80 * 1024) }), expect: matrix(413, 'M_TOO_LARGE') },
  {
    id: 'compat/login-proto-pollution',
    family: 'compat',
    request: () => raw(`${V3}/login`, '{"__proto__":{"type":"m.login.token","token":"x"},"constructor":{"prototype":{"admin":true}}}', 'application/json'),
    expect: matrix(400, 'M_BAD_JSON'),
  },
  { id: 'compat/login-password-type', family: 'compat', request: () => login({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'victim' }, password: 'hunter2' }), expect: matrix(400, 'M_UNKNOWN') },
  { id: 'compat/login-unknown-type', family: 'compat', request: () => login({ type: 'm.login.sso' }), expect: matrix(400, 'M_UNKNOWN') },
  {
    id: 'compat/login-appservice-type',
    family: 'compat',
    request: () => login({ type: 'm.login.application_service', identifier: { type: 'm.id.user', user: 'victim' } }),
    expect: matrix(400, 'M_APPSERVICE_LOGIN_UNSUPPORTED'),
  },
  { id: 'compat/login-missing-type', family: 'compat', request: () => login({ token: 'x' }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/login-token-replay', family: 'compat', request: (ctx) => tokenLogin({ token: ctx.victim.usedLoginToken }), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'compat/login-token-guessed', family: 'compat', request: () => tokenLogin({}), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'compat/login-token-is-access-token', family: 'compat', request: (ctx) => tokenLogin({ token: ctx.victim.compatAccessToken }), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'compat/login-token-is-oauth-code', family: 'compat', request: (ctx) => tokenLogin({ token: ctx.victim.usedCode }), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'compat/login-token-number', family: 'compat', request: () => tokenLogin({ token: 12345 }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/login-token-object', family: 'compat', request: () => tokenLogin({ token: { $ne: null } }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/login-token-nul', family: 'compat', request: () => tokenLogin({ token: 'syl_\u0000' }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/login-token-overlong', family: 'compat', request: () => tokenLogin({ token: 't'.repeat(40_000) }), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'compat/login-device-id-dot-dot', family: 'compat', request: () => tokenLogin({ device_id: '..' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'compat/login-device-id-bidi', family: 'compat', request: () => tokenLogin({ device_id: 'AB\u202ECD' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'compat/login-device-id-newline', family: 'compat', request: () => tokenLogin({ device_id: 'AB\nCD' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'compat/login-device-id-slashes-bad-token', family: 'compat', request: () => tokenLogin({ device_id: '../../admin' }), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'compat/login-device-id-overlong', family: 'compat', request: () => tokenLogin({ device_id: 'D'.repeat(256) }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'compat/login-device-id-empty', family: 'compat', request: () => tokenLogin({ device_id: '' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'compat/login-display-name-overlong', family: 'compat', request: () => tokenLogin({ initial_device_display_name: 'n'.repeat(101) }), expect: matrix(400, 'M_TOO_LARGE') },
  { id: 'compat/login-display-name-nul', family: 'compat', request: () => tokenLogin({ initial_device_display_name: 'a\u0000' }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/login-key-nul', family: 'compat', request: () => raw(`${V3}/login`, '{"type":"m.login.token","token":"x","a\\u0000":1}', 'application/json'), expect: matrix(400, 'M_BAD_JSON') },
  {
    id: 'compat/login-invalid-utf8',
    family: 'compat',
    request: () => ({ path: `${V3}/login`, body: Buffer.concat([Buffer.from('{"type":"m.login.token","token":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), headers: { 'content-type': 'application/json' } }),
    expect: matrix(400, 'M_NOT_JSON'),
  },
  {
    id: 'compat/login-version-traversal',
    family: 'compat',
    request: () => ({ path: '/_matrix/client/..%2F..%2Fapi%2Fadmin%2Fv1/login', json: { type: 'm.login.token', token: 'x' } }),
    expect: matrix(403, 'M_FORBIDDEN'),
  },

  // POST /refresh.
  { id: 'compat/refresh-garbage', family: 'compat', request: () => ({ path: `${V3}/refresh`, json: { refresh_token: 'syr_notatoken' } }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'compat/refresh-oauth-refresh-token', family: 'compat', request: (ctx) => ({ path: `${V3}/refresh`, json: { refresh_token: ctx.victim.refreshToken } }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'compat/refresh-access-token', family: 'compat', request: (ctx) => ({ path: `${V3}/refresh`, json: { refresh_token: ctx.victim.compatAccessToken } }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'compat/refresh-missing', family: 'compat', request: () => ({ path: `${V3}/refresh`, json: {} }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/refresh-number', family: 'compat', request: () => ({ path: `${V3}/refresh`, json: { refresh_token: 1 } }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/refresh-nul', family: 'compat', request: () => ({ path: `${V3}/refresh`, json: { refresh_token: 'syr_\u0000' } }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'compat/refresh-malformed-json', family: 'compat', request: () => raw(`${V3}/refresh`, '{"refresh_token":', 'application/json'), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'compat/refresh-form-body', family: 'compat', request: (ctx) => raw(`${V3}/refresh`, `refresh_token=${ctx.victim.compatRefreshToken}`, 'application/x-www-form-urlencoded'), expect: matrix(400, 'M_NOT_JSON') },

  // POST /logout, /logout/all: a bearer token of this server only.
  { id: 'compat/logout-no-token', family: 'compat', request: () => ({ path: `${V3}/logout`, json: {} }), expect: matrix(401, 'M_MISSING_TOKEN') },
  { id: 'compat/logout-garbage-token', family: 'compat', request: () => ({ path: `${V3}/logout`, json: {}, headers: { authorization: 'Bearer syt_garbage' } }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'compat/logout-basic-auth', family: 'compat', request: () => ({ path: `${V3}/logout`, json: {}, headers: { authorization: 'Basic dmljdGltOmh1bnRlcjI=' } }), expect: matrix(401, 'M_MISSING_TOKEN') },
  {
    id: 'compat/logout-refresh-token-as-bearer',
    family: 'compat',
    request: (ctx) => ({ path: `${V3}/logout`, json: {}, headers: { authorization: `Bearer ${ctx.victim.compatRefreshToken}` } }),
    expect: matrix(401, 'M_UNKNOWN_TOKEN'),
  },
  {
    id: 'compat/logout-token-in-query',
    family: 'compat',
    request: (ctx) => ({ path: `${V3}/logout?access_token=syt_${ctx.victim.compatAccessToken.slice(4, 8)}garbage`, json: {} }),
    expect: matrix(401, 'M_MISSING_TOKEN'),
  },
  { id: 'compat/logout-all-no-token', family: 'compat', request: () => ({ path: `${V3}/logout/all`, json: {} }), expect: matrix(401, 'M_MISSING_TOKEN') },
  { id: 'compat/logout-all-garbage-token', family: 'compat', request: () => ({ path: `${V3}/logout/all`, json: {}, headers: { authorization: 'Bearer mct_garbage' } }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },

  // GET /login/sso/redirect: an absolute http(s) redirectUrl without userinfo, as a page when refused.
  { id: 'compat/sso-redirect-missing', family: 'compat', request: () => ({ path: sso(null) }), expect: page(400) },
  { id: 'compat/sso-redirect-javascript', family: 'compat', request: () => ({ path: sso('javascript:alert(document.cookie)') }), expect: page(400) },
  { id: 'compat/sso-redirect-data', family: 'compat', request: () => ({ path: sso('data:text/html,<script>alert(1)</script>') }), expect: page(400) },
  { id: 'compat/sso-redirect-vbscript', family: 'compat', request: () => ({ path: sso('vbscript:msgbox(1)') }), expect: page(400) },
  { id: 'compat/sso-redirect-userinfo', family: 'compat', request: () => ({ path: sso('https://legacy-app.test@evil.example/cb') }), expect: page(400) },
  { id: 'compat/sso-redirect-relative', family: 'compat', request: () => ({ path: sso('/sso/callback') }), expect: page(400) },
  { id: 'compat/sso-redirect-scheme-relative', family: 'compat', request: () => ({ path: sso('//evil.example/cb') }), expect: page(400) },
  { id: 'compat/sso-redirect-overlong', family: 'compat', request: () => ({ path: sso(`https://legacy-app.test/${'a'.repeat(10_000)}`) }), expect: page(400) },
  { id: 'compat/sso-redirect-nul', family: 'compat', request: () => ({ path: sso('https://legacy-app.test/\u0000') }), expect: page(400) },
  { id: 'compat/sso-redirect-duplicated', family: 'compat', request: () => ({ path: `${sso('javascript:alert(1)')}&redirectUrl=${encodeURIComponent(APP_REDIRECT)}` }), expect: page(400) },
  { id: 'compat/sso-redirect-unknown-idp', family: 'compat', request: () => ({ path: sso(APP_REDIRECT, '/no-such-idp') }), expect: startsLogin },
  { id: 'compat/sso-redirect-idp-traversal', family: 'compat', request: () => ({ path: sso(APP_REDIRECT, '/..%2F..%2Fadmin') }), expect: startsLogin },
  { id: 'compat/sso-complete-unknown', family: 'compat', request: () => ({ path: '/complete-compat-sso/01JUNKNOWNUNKNOWNUNKNOWN00' }), expect: page(400) },
  { id: 'compat/sso-complete-nul', family: 'compat', request: () => ({ path: '/complete-compat-sso/a%00b' }), expect: page(400) },
  { id: 'compat/sso-complete-traversal', family: 'compat', request: () => ({ path: '/complete-compat-sso/..%2F..%2Fapi%2Fadmin%2Fv1%2Fusers' }), expect: page(400) },
];
