import { describe, expect, it } from '@jest/globals';
import { consentScopes, isSubset, parseScope, withBothNamespaces } from '../../../src/oauth2/scopes/scope.js';
import { InvalidScopeError } from '../../../src/oauth2/errors.js';

const S = 'urn:matrix:client:';
const U = 'urn:matrix:org.matrix.msc2967.client:';
const invalid = (raw: string | undefined) => {
  expect(() => parseScope(raw)).toThrow(InvalidScopeError);
};

describe('parseScope (MSC2967)', () => {
  it('accepts the stable namespace with exactly one device', () => {
    const p = parseScope(`${S}api:* ${S}device:ABCDEFGHIJ`);
    expect(p).toMatchObject({ namespace: 'stable', api: true, deviceId: 'ABCDEFGHIJ', openid: false, admin: false });
  });
  it('accepts the unstable namespace and openid (Element X, js-sdk 41)', () => {
    const p = parseScope(`openid ${U}api:* ${U}device:XYZ`);
    expect(p).toMatchObject({ namespace: 'unstable', api: true, deviceId: 'XYZ', openid: true });
  });
  it('keeps the request order and drops duplicates; tolerates repeated spaces', () => {
    expect(parseScope(`openid  ${S}api:* ${S}device:D openid`).tokens).toEqual(['openid', `${S}api:*`, `${S}device:D`]);
  });
  it('accepts device ids of 255 characters with base64 + and / (QR login)', () => {
    const curve = 'hbJk4+Q8/0dZ2mUeD9S8x1n0wq7u2M3pVtq0lQe4mHk';
    expect(parseScope(`${U}api:* ${U}device:${curve}`).deviceId).toBe(curve);
    const long = 'a'.repeat(255);
    expect(parseScope(`${S}api:* ${S}device:${long}`).deviceId).toBe(long);
    expect(parseScope(`${S}api:* ${S}device:a.b_c~d!$&'()*,;=:@-`).deviceId).toBe(`a.b_c~d!$&'()*,;=:@-`);
  });
  it('refuses a device id longer than 255 characters', () => invalid(`${S}api:* ${S}device:${'a'.repeat(256)}`));
  it('refuses mixed namespaces', () => invalid(`${S}api:* ${U}device:D`));
  it('refuses two devices, even the same id in both namespaces', () => {
    invalid(`${S}api:* ${S}device:A ${S}device:B`);
    invalid(`${S}api:* ${S}device:A ${U}device:A`);
  });
  it('refuses a device without the API scope', () => invalid(`openid ${S}device:A`));
  it('refuses the API scope without a device (stricter than MAS)', () => invalid(`${S}api:*`));
  it('allows a non-Matrix request with no device (openid only)', () => {
    const p = parseScope('openid email');
    expect(p).toMatchObject({ api: false, openid: true });
    expect(p.deviceId).toBeUndefined();
  });
  it('refuses unknown scopes, the guest scope, empty scopes and bad characters', () => {
    invalid('openid foo');
    invalid(`${S}api:guest ${S}device:A`);
    invalid(`${U}api:guest`);
    invalid(`${S}something:else`);
    invalid('');
    invalid(undefined);
    invalid('open"id');
    invalid(`${S}api:* ${S}device:`);
  });
  it('recognises urn:synapse:admin:*', () => {
    expect(parseScope(`${S}api:* ${S}device:A urn:synapse:admin:*`).admin).toBe(true);
  });
});

describe('scope helpers', () => {
  it('reports both namespaces for introspection', () => {
    expect(withBothNamespaces(['openid', `${U}api:*`, `${U}device:D`])).toEqual([
      'openid',
      `${S}api:*`,
      `${S}device:D`,
      `${U}api:*`,
      `${U}device:D`,
    ]);
  });
  it('makes consent independent of the device id and namespace', () => {
    expect(consentScopes([`${U}api:*`, `${U}device:ONE`])).toEqual(consentScopes([`${S}device:TWO`, `${S}api:*`]));
  });
  it('subset', () => {
    expect(isSubset(['a'], ['a', 'b'])).toBe(true);
    expect(isSubset(['a', 'c'], ['a', 'b'])).toBe(false);
  });
});
