import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { isJsonContentType, parseBody, readJson } from '../../../src/compat/matrix-json-body.js';
import { logoutAllBody, parseLoginRequest, refreshBody } from '../../../src/compat/login-request.js';
import { MatrixError } from '../../../src/matrix/matrix-error.js';

/** The Matrix error a call throws, as `{status, errcode, error}`. */
function thrown(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof MatrixError) return { status: e.status, errcode: e.errcode, error: e.error };
    throw e;
  }
  throw new Error('did not throw');
}
const NOT_JSON_TYPE = { status: 400, errcode: 'M_NOT_JSON', error: 'Invalid Content-Type header: expected application/json' };
const NOT_JSON = { status: 400, errcode: 'M_NOT_JSON', error: 'Body is not a valid JSON document' };
const BAD_JSON = { status: 400, errcode: 'M_BAD_JSON', error: 'JSON fields are not valid' };
const buf = (s: string) => Buffer.from(s);

describe('isJsonContentType', () => {
  it.each(['application/json', 'APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/vnd.matrix+json', ' application/json '])('accepts %j', (ct) => {
    expect(isJsonContentType(ct)).toBe(true);
  });
  it.each(['text/json', 'text/plain', 'application/jsonx', 'application/x-www-form-urlencoded', 'application/', 'json', '', 'application/json+xml', 'multipart/form-data; boundary=x'])('refuses %j', (ct) => {
    expect(isJsonContentType(ct)).toBe(false);
  });
});

describe('readJson (MAS MatrixJsonBody)', () => {
  it('a wrong Content-Type is refused before the body is looked at', () => {
    expect(thrown(() => readJson('text/plain', buf('{}')))).toEqual(NOT_JSON_TYPE);
    expect(thrown(() => readJson('garbage', buf('{}')))).toEqual(NOT_JSON_TYPE);
  });
  it('no Content-Type is fine', () => {
    expect(readJson(undefined, buf('{"a":1}'))).toEqual({ a: 1 });
  });
  it.each([
    ['empty', ''],
    ['whitespace', '  \n'],
    ['truncated', '{"a":'],
    ['two documents', '{} {}'],
    ['single quotes', "{'a':1}"],
    ['a byte order mark', '\uFEFF{}'],
  ])('%s → M_NOT_JSON', (_what, body) => {
    expect(thrown(() => readJson('application/json', buf(body)))).toEqual(NOT_JSON);
  });
  it('bytes that are not UTF-8 → M_NOT_JSON', () => {
    expect(thrown(() => readJson('application/json', Buffer.from([0x22, 0xc3, 0x28, 0x22])))).toEqual(NOT_JSON);
  });
  it('no body at all with a Content-Type → M_NOT_JSON', () => {
    expect(thrown(() => readJson('application/json', undefined))).toEqual(NOT_JSON);
  });
  it('optional bodies (/logout/all): nothing sent without a Content-Type is "no body"; with one it must be JSON', () => {
    expect(readJson(undefined, undefined, { optional: true })).toBeUndefined();
    expect(readJson(undefined, buf(''), { optional: true })).toBeUndefined();
    expect(readJson(undefined, buf('{"x":true}'), { optional: true })).toEqual({ x: true });
    expect(thrown(() => readJson('application/json', buf(''), { optional: true }))).toEqual(NOT_JSON);
    expect(thrown(() => readJson(undefined, buf('nope'), { optional: true }))).toEqual(NOT_JSON);
  });
  it('/refresh requires the Content-Type', () => {
    expect(thrown(() => readJson(undefined, buf('{}'), { requireContentType: true }))).toEqual(NOT_JSON_TYPE);
  });
  it('parseBody: valid JSON of the wrong shape → M_BAD_JSON; unknown fields ignored', () => {
    const schema = z.object({ n: z.number() });
    expect(thrown(() => parseBody(schema, 'application/json', buf('{"n":"1"}')))).toEqual(BAD_JSON);
    expect(thrown(() => parseBody(schema, 'application/json', buf('[]')))).toEqual(BAD_JSON);
    expect(thrown(() => parseBody(schema, 'application/json', buf('null')))).toEqual(BAD_JSON);
    expect(parseBody(schema, 'application/json', buf('{"n":1,"extra":[1]}'))).toEqual({ n: 1 });
  });
});

describe('parseLoginRequest', () => {
  it('m.login.token with its options', () => {
    expect(parseLoginRequest({ type: 'm.login.token', token: 't' })).toEqual({ kind: 'token', token: 't', refreshToken: false });
    expect(parseLoginRequest({ type: 'm.login.token', token: 't', refresh_token: true, device_id: 'D', initial_device_display_name: 'Phone', x: 1 })).toEqual({
      kind: 'token',
      token: 't',
      refreshToken: true,
      deviceId: 'D',
      displayName: 'Phone',
    });
    // serde's Option: null is "absent".
    expect(parseLoginRequest({ type: 'm.login.token', token: 't', device_id: null, initial_device_display_name: null })).toEqual({ kind: 'token', token: 't', refreshToken: false });
  });
  it.each([
    ['not an object', 'm.login.token'],
    ['no type', { token: 't' }],
    ['type not a string', { type: ['m.login.token'] }],
    ['token missing', { type: 'm.login.token' }],
    ['token not a string', { type: 'm.login.token', token: 1 }],
    ['refresh_token not a boolean', { type: 'm.login.token', token: 't', refresh_token: 'true' }],
    ['refresh_token null', { type: 'm.login.token', token: 't', refresh_token: null }],
    ['device_id not a string', { type: 'm.login.token', token: 't', device_id: 1 }],
    ['display name not a string', { type: 'm.login.token', token: 't', initial_device_display_name: {} }],
    ['refresh_token wrong on an unknown type', { type: 'm.login.foo', refresh_token: 1 }],
    ['password without password', { type: 'm.login.password', user: 'a' }],
    ['password with a numeric password', { type: 'm.login.password', user: 'a', password: 1 }],
    ['m.id.user without user', { type: 'm.login.password', identifier: { type: 'm.id.user' }, password: 'p' }],
    ['identifier without type', { type: 'm.login.password', identifier: { user: 'a' }, password: 'p' }],
  ])('%s → M_BAD_JSON', (_what, body) => {
    expect(thrown(() => parseLoginRequest(body))).toEqual(BAD_JSON);
  });
  it('device_id must be 1 to 255 characters; the display name at most 100', () => {
    expect(thrown(() => parseLoginRequest({ type: 'm.login.token', token: 't', device_id: '' }))).toEqual({ status: 400, errcode: 'M_INVALID_PARAM', error: 'device_id must be 1 to 255 characters' });
    expect(parseLoginRequest({ type: 'm.login.token', token: 't', device_id: 'd'.repeat(255) })).toMatchObject({ deviceId: 'd'.repeat(255) });
    expect(thrown(() => parseLoginRequest({ type: 'm.login.token', token: 't', device_id: 'd'.repeat(256) }))).toMatchObject({ errcode: 'M_INVALID_PARAM' });
    expect(parseLoginRequest({ type: 'm.login.token', token: 't', initial_device_display_name: 'n'.repeat(100) })).toMatchObject({ displayName: 'n'.repeat(100) });
    expect(thrown(() => parseLoginRequest({ type: 'm.login.token', token: 't', initial_device_display_name: 'n'.repeat(101) }))).toEqual({
      status: 400,
      errcode: 'M_TOO_LARGE',
      error: 'Device display name is too long (max 100)',
    });
  });
  it('well-formed logins of other kinds', () => {
    expect(parseLoginRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'p' })).toEqual({ kind: 'password' });
    expect(parseLoginRequest({ type: 'm.login.password', identifier: { type: 'm.id.phone', country: 'GB', phone: '1' }, password: 'p' })).toEqual({ kind: 'password' });
    expect(parseLoginRequest({ type: 'm.login.password', user: '@alice:example.test', password: 'p' })).toEqual({ kind: 'password' });
    expect(parseLoginRequest({ type: 'm.login.application_service' })).toEqual({ kind: 'application_service' });
    expect(parseLoginRequest({ type: 'm.login.sso' })).toEqual({ kind: 'unsupported', type: 'm.login.sso' });
  });
  it('the /logout/all and /refresh bodies', () => {
    expect(logoutAllBody.safeParse({ 'io.element.only_compat_is_fine': true }).success).toBe(true);
    expect(logoutAllBody.safeParse({}).success).toBe(true);
    expect(logoutAllBody.safeParse({ 'io.element.only_compat_is_fine': 'true' }).success).toBe(false);
    expect(logoutAllBody.safeParse({ 'io.element.only_compat_is_fine': null }).success).toBe(false);
    expect(refreshBody.safeParse({ refresh_token: 'mcr_x' }).success).toBe(true);
    expect(refreshBody.safeParse({}).success).toBe(false);
    expect(refreshBody.safeParse({ refresh_token: null }).success).toBe(false);
  });
});
