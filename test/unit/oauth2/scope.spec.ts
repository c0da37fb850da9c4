import { describe, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { consentScopes, generateDeviceId, isSubset, parseScope, withBothNamespaces, withDevice } from '../../../src/oauth2/scopes/scope.js';
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
  it('refuses a stored or refreshed scope with the API scope but no device', () => invalid(`${S}api:*`));
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
    expect(withBothNamespaces(['openid', `${U}api:*`, `${U}device:D`])).toEqual(['openid', `${S}api:*`, `${S}device:D`, `${U}api:*`, `${U}device:D`]);
  });
  it('makes consent independent of the device id and namespace', () => {
    expect(consentScopes([`${U}api:*`, `${U}device:ONE`])).toEqual(consentScopes([`${S}device:TWO`, `${S}api:*`]));
  });
  it('subset', () => {
    expect(isSubset(['a'], ['a', 'b'])).toBe(true);
    expect(isSubset(['a', 'c'], ['a', 'b'])).toBe(false);
  });
});

describe('withDevice: a device id is generated when none is requested (issue 3)', () => {
  const fixed = () => 0; // every character is the alphabet's first: AAAAAAAAAA
  it('adds a device in the namespace of the API scope', () => {
    expect(withDevice(`${S}api:*`, fixed)).toBe(`${S}api:* ${S}device:AAAAAAAAAA`);
    expect(withDevice(`openid ${U}api:*`, fixed)).toBe(`openid ${U}api:* ${U}device:AAAAAAAAAA`);
    expect(parseScope(withDevice(`${S}api:*`, fixed))).toMatchObject({ api: true, deviceId: 'AAAAAAAAAA', namespace: 'stable' });
  });
  it('leaves a request that names a device, or is not a Matrix login, unchanged', () => {
    expect(withDevice(`${S}api:* ${S}device:MINE`, fixed)).toBe(`${S}api:* ${S}device:MINE`);
    expect(withDevice('openid email', fixed)).toBe('openid email');
    expect(withDevice(undefined, fixed)).toBeUndefined();
  });
  it('leaves malformed scopes for parseScope to refuse', () => {
    expect(() => parseScope(withDevice(`${S}api:* bad"token`, fixed))).toThrow(InvalidScopeError);
    expect(() => parseScope(withDevice(`${S}api:* ${U}api:*`, fixed))).toThrow(InvalidScopeError);
  });
  it('generates 10 characters of [A-Z0-9]', () => {
    for (let i = 0; i < 50; i++) expect(generateDeviceId(randomInt)).toMatch(/^[A-Z0-9]{10}$/);
  });
});
