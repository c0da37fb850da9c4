import { matrix, type CorpusCase, type RequestSpec } from '../corpus-case.js';
import { ADMIN_TOKEN, type CorpusContext } from '../corpus-server.js';

/** The admin API (/api/admin/v1): the token first, then strict grammars for references, cursors and bodies. */
const A = '/api/admin/v1';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const get = (path: string, headers: Record<string, string> = auth): RequestSpec => ({ path: `${A}${path}`, headers });
const post = (path: string, json: unknown, headers: Record<string, string> = auth): RequestSpec => ({ path: `${A}${path}`, json, headers });
const asVictim = (ctx: CorpusContext) => ({ authorization: `Bearer ${ctx.victim.accessToken}` });

export const ADMIN_CASES: CorpusCase[] = [
  // Authentication.
  { id: 'admin/no-token', family: 'admin', request: () => get('/users', {}), expect: matrix(401, 'M_MISSING_TOKEN') },
  { id: 'admin/wrong-token', family: 'admin', request: () => get('/users', { authorization: 'Bearer wrong-token-wrong-token-wrong' }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'admin/token-prefix', family: 'admin', request: () => get('/users', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'admin/token-with-suffix', family: 'admin', request: () => get('/users', { authorization: `Bearer ${ADMIN_TOKEN}x` }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'admin/token-as-basic', family: 'admin', request: () => get('/users', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'admin/token-in-query', family: 'admin', request: () => get(`/users?access_token=${ADMIN_TOKEN}`, {}), expect: matrix(401, 'M_MISSING_TOKEN') },
  { id: 'admin/victim-oauth-token', family: 'admin', request: (ctx) => get('/users', asVictim(ctx)), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'admin/victim-compat-token', family: 'admin', request: (ctx) => get('/users', { authorization: `Bearer ${ctx.victim.compatAccessToken}` }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'admin/shared-secret', family: 'admin', request: () => get('/users', { authorization: 'Bearer test-shared-secret-0123456789abcdef' }), expect: matrix(401, 'M_UNKNOWN_TOKEN') },
  { id: 'admin/victim-token-create-user', family: 'admin', request: (ctx) => post('/users', { localpart: 'mallory-admin', admin: true }, asVictim(ctx)), expect: matrix(403, 'M_FORBIDDEN') },
  { id: 'admin/no-token-set-admin', family: 'admin', request: () => post('/users/victim/set-admin', { admin: true }, {}), expect: matrix(401, 'M_MISSING_TOKEN') },
  { id: 'admin/no-token-deactivate', family: 'admin', request: () => post('/users/victim/deactivate', {}, {}), expect: matrix(401, 'M_MISSING_TOKEN') },
  { id: 'admin/no-token-openapi-write', family: 'admin', request: () => post('/events/dead-letters/replay', {}, {}), expect: matrix(401, 'M_MISSING_TOKEN') },

  // References.
  { id: 'admin/user-nul', family: 'admin', request: () => get('/users/a%00b'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/user-nul-unauthenticated', family: 'admin', request: () => get('/users/a%00b', {}), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/user-space', family: 'admin', request: () => get('/users/a%20b'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/user-bidi', family: 'admin', request: () => get(`/users/${encodeURIComponent('vic\u202Etim')}`), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/user-traversal', family: 'admin', request: () => get('/users/..%2F..%2Fclients'), expect: matrix(404, 'M_NOT_FOUND') },
  { id: 'admin/user-overlong', family: 'admin', request: () => get(`/users/${'u'.repeat(400)}`), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/user-unknown', family: 'admin', request: () => get('/users/01J0000000000000000000000'), expect: matrix(404, 'M_NOT_FOUND') },
  { id: 'admin/session-nul', family: 'admin', request: () => get('/sessions/a%00b'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/session-end-nul', family: 'admin', request: () => post('/sessions/a%00b/end', {}), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/client-nul', family: 'admin', request: () => get('/clients/a%00b'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/client-delete-traversal', family: 'admin', request: () => ({ method: 'DELETE', path: `${A}/clients/..%2Fusers`, headers: auth }), expect: matrix(404, 'M_NOT_FOUND') },
  { id: 'admin/link-nul', family: 'admin', request: () => ({ method: 'DELETE', path: `${A}/links/a%00b`, headers: auth }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/device-rename-bad-device', family: 'admin', request: () => post('/users/victim/devices/NOSUCHDEVICE/rename', { name: 'x\u202Eevil' }), expect: matrix(404, 'M_NOT_FOUND') },
  { id: 'admin/dead-letter-replay-not-a-number', family: 'admin', request: () => post('/events/dead-letters/abc/replay', {}), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/personal-token-revoke-nul', family: 'admin', request: () => post('/personal-tokens/a%00b/revoke', {}), expect: matrix(400, 'M_INVALID_PARAM') },

  // Cursors and filters.
  { id: 'admin/cursor-overlong', family: 'admin', request: () => get(`/users?after=${'c'.repeat(200)}`), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/cursor-nul', family: 'admin', request: () => get('/users?after=a%00b'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/cursor-duplicated', family: 'admin', request: () => get('/users?after=a&after=b'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/limit-zero', family: 'admin', request: () => get('/users?limit=0'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/limit-huge', family: 'admin', request: () => get('/users?limit=100000000'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/limit-negative', family: 'admin', request: () => get('/sessions?limit=-5'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/limit-fraction', family: 'admin', request: () => get('/sessions?limit=1.5'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/limit-not-a-number', family: 'admin', request: () => get('/clients?limit=ten'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/dead-letters-cursor-not-a-number', family: 'admin', request: () => get('/events/dead-letters?after=abc'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/unknown-filter', family: 'admin', request: () => get('/users?is_admin=true'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/status-filter-bogus', family: 'admin', request: () => get('/users?status=superuser'), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/audit-since-bogus', family: 'admin', request: () => get('/audit?since=yesterday'), expect: matrix(400, 'M_INVALID_PARAM') },

  // Bodies.
  { id: 'admin/create-user-malformed-json', family: 'admin', request: () => ({ path: `${A}/users`, body: '{"localpart":', headers: { ...auth, 'content-type': 'application/json' } }), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'admin/create-user-form-body', family: 'admin', request: () => ({ path: `${A}/users`, form: { localpart: 'formuser' }, headers: auth }), expect: matrix(400, 'M_NOT_JSON') },
  { id: 'admin/create-user-unknown-field', family: 'admin', request: () => post('/users', { localpart: 'extra-field', is_admin: true }), expect: matrix(400, 'M_BAD_JSON') },
  { id: 'admin/create-user-uppercase-localpart', family: 'admin', request: () => post('/users', { localpart: 'Mallory' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/create-user-nul-localpart', family: 'admin', request: () => post('/users', { localpart: 'mal\u0000lory' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/create-user-bidi-localpart', family: 'admin', request: () => post('/users', { localpart: 'mal\u202Elory' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/create-user-colon-localpart', family: 'admin', request: () => post('/users', { localpart: 'victim:example.test' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/create-user-existing', family: 'admin', request: () => post('/users', { localpart: 'victim' }), expect: matrix(409, 'CAUSEWAY_CONFLICT') },
  {
    id: 'admin/create-user-proto-pollution',
    family: 'admin',
    request: () => ({ path: `${A}/users`, body: '{"localpart":"protouser","__proto__":{"admin":true}}', headers: { ...auth, 'content-type': 'application/json' } }),
    expect: matrix(400, 'M_NOT_JSON'),
  },
  { id: 'admin/create-user-oversized', family: 'admin', request: () => post('/users', { localpart: 'big', display_name: 'x'.repeat(80 * 1024) }), expect: matrix(413, 'M_TOO_LARGE') },
  { id: 'admin/set-displayname-nul', family: 'admin', request: () => post('/users/victim/set-displayname', { display_name: 'a\u0000' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/add-link-duplicate-key', family: 'admin', request: () => post('/users/victim/links', { provider: 'nope-provider', subject: 'x' }), expect: matrix(400, 'M_INVALID_PARAM') },
  { id: 'admin/unknown-route', family: 'admin', request: () => get('/users/victim/%2e%2e/%2e%2e/%2e%2e/etc/passwd'), expect: matrix(404, 'M_UNRECOGNIZED') },
  { id: 'admin/wrong-method', family: 'admin', request: () => ({ method: 'PUT', path: `${A}/users/victim`, json: { admin: true }, headers: auth }), expect: matrix(404, 'M_UNRECOGNIZED') },
];
