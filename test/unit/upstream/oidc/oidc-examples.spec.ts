import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { appleUserAttributes } from '../../../../src/upstream/oidc/apple/apple-user.js';
import { parse } from 'yaml';
import { CONNECTOR_KINDS } from '../../../../src/upstream/connector-kinds.js';
import { oidcProviderSchema, type OidcProviderConfig } from '../../../../src/upstream/oidc/oidc.config.js';
import { claimsToAttributes } from '../../../../src/upstream/oauth-client/json-attributes.js';
import { ProviderMapping } from '../../../../src/upstream/mapping/claims-mapper.js';

/** The shipped OIDC examples' claims mapping, over ID token / userinfo claims shaped as each IdP sends them. */
const policy = { serverName: 'example.com', reserved: [] };

function example(file: string, index = 0): OidcProviderConfig {
  for (const v of ['KEYCLOAK', 'ENTRA', 'ENTRA_PARTNERS', 'GOOGLE', 'AUTHENTIK']) process.env[`${v}_CLIENT_SECRET`] = 'test-secret';
  process.env.APPLE_PRIVATE_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const yaml = parse(readFileSync(new URL(`../../../../config/${file}`, import.meta.url), 'utf8')) as { upstream: { providers: unknown[] } };
  return oidcProviderSchema.parse(yaml.upstream.providers[index]);
}
const map = (file: string, claims: Record<string, unknown>) =>
  new ProviderMapping(example(file), CONNECTOR_KINDS.oidc.defaultTemplates).map({ providerId: 'x', subject: String(claims.sub), attributes: claimsToAttributes(claims) }, policy);

describe('OIDC examples through claims mapping', () => {
  const keycloak = {
    iss: 'https://sso.example.com/realms/corp',
    sub: 'f1c7e2a0-4d1b-4b59-9a51-0d2f2c1f9e11',
    sid: 'b3a1',
    preferred_username: 'Alice',
    name: 'Alice Liddell',
    email: 'alice@example.com',
    email_verified: true,
    groups: ['matrix-users', 'staff'],
    realm_access: { roles: ['offline_access'] },
  };
  it('Keycloak: group member signs in as @alice', () => {
    expect(map('oidc-keycloak.example.yaml', keycloak)).toMatchObject({
      ok: true,
      identity: { subject: keycloak.sub, localpart: { mode: 'use', value: 'alice' }, displayname: { value: 'Alice Liddell', sync: 'always' }, email: { value: 'alice@example.com' } },
    });
  });
  it('Keycloak: not in matrix-users → the groups requirement fails', () => {
    expect(map('oidc-keycloak.example.yaml', { ...keycloak, groups: ['staff'] })).toMatchObject({ ok: false, failure: { attribute: 'groups', rule: 'contains' } });
  });
  it('Keycloak: unverified email → refused', () => {
    expect(map('oidc-keycloak.example.yaml', { ...keycloak, email_verified: false })).toMatchObject({ ok: false, failure: { attribute: 'email_verified', rule: 'equals' } });
  });

  const entra = {
    iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    tid: '00000000-0000-0000-0000-000000000000',
    preferred_username: 'Bob.Smith@example.com',
    name: 'Bob Smith',
    email: 'bob.smith@example.com',
    roles: ['Matrix.User'],
  };
  it('Entra: subject is the oid, localpart the UPN’s local part', () => {
    expect(map('oidc-entra.example.yaml', entra)).toMatchObject({ ok: true, identity: { subject: entra.oid, localpart: { value: 'bob.smith' }, email: { value: 'bob.smith@example.com' } } });
  });
  it('Entra multi-tenant: the allow-list and template parsed (tenant ids lower-cased), the subject names tenant and oid', () => {
    const partners = example('oidc-entra.example.yaml', 1);
    expect(partners.multi_tenant).toEqual({ issuer_template: 'https://login.microsoftonline.com/{tid}/v2.0', tenants: ['9b1c3f6e-2d4a-4c8b-8e7f-1a2b3c4d5e6f', '4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8'] });
    const mapped = new ProviderMapping(partners, CONNECTOR_KINDS.oidc.defaultTemplates).map({ providerId: 'x', subject: entra.sub, attributes: claimsToAttributes(entra) }, policy);
    expect(mapped).toMatchObject({ ok: true, identity: { subject: `${entra.tid}:${entra.oid}`, localpart: { mode: 'ask', value: 'bob.smith' } } });
  });
  it('Entra: without the app role → refused', () => {
    expect(map('oidc-entra.example.yaml', { ...entra, roles: undefined })).toMatchObject({ ok: false, failure: { attribute: 'roles', reason: 'missing' } });
  });

  const google = {
    iss: 'https://accounts.google.com',
    sub: '110169484474386276334',
    hd: 'example.com',
    email: 'Carol.Jones@example.com',
    email_verified: true,
    name: 'Carol Jones',
    picture: 'https://lh3.googleusercontent.com/a/x',
  };
  it('Google: Workspace account of example.com', () => {
    expect(map('oidc-google.example.yaml', google)).toMatchObject({ ok: true, identity: { localpart: { value: 'carol.jones' }, displayname: { value: 'Carol Jones' } } });
  });
  it('Google: a gmail.com account (no hd) → refused', () => {
    const { hd: _hd, ...gmail } = google;
    expect(map('oidc-google.example.yaml', { ...gmail, email: 'carol@gmail.com' })).toMatchObject({ ok: false, failure: { attribute: 'hd', reason: 'missing' } });
  });
  it('Google: another Workspace domain → refused', () => {
    expect(map('oidc-google.example.yaml', { ...google, hd: 'evil.example' })).toMatchObject({ ok: false, failure: { attribute: 'hd', reason: 'mismatch' } });
  });

  const authentik = {
    iss: 'https://authentik.example.com/application/o/matrix/',
    sub: 'a3f9',
    preferred_username: 'Dörte Müller',
    name: 'Dörte Müller',
    email: 'doerte@example.com',
    email_verified: true,
    groups: ['matrix-users'],
  };
  it('authentik: the registration page is pre-filled with a cleaned-up suggestion', () => {
    expect(map('oidc-authentik.example.yaml', authentik)).toMatchObject({
      ok: true,
      identity: { localpart: { action: 'suggest', mode: 'ask', value: 'dorte-muller' }, displayname: { action: 'suggest', value: 'Dörte Müller' }, email: { value: 'doerte@example.com' } },
    });
  });
  it('authentik: unverified email is not imported', () => {
    const r = map('oidc-authentik.example.yaml', { ...authentik, email_verified: false });
    expect(r.ok && r.identity.email).toEqual({ action: 'force', sync: 'always' });
  });
  const appleIdToken = { iss: 'https://appleid.apple.com', sub: '001234.5f1d6d0b2a4c4e0f9d8a7b6c5d4e3f2a.0123', email: 'John.A@privaterelay.appleid.com', email_verified: 'true', is_private_email: 'true' };
  it('Apple: the first sign-in’s name (the `user` field) is the display name, suggested; the relay address is imported', () => {
    const attrs = claimsToAttributes(appleUserAttributes('{"name":{"firstName":"John","lastName":"Appleseed"}}'), appleIdToken);
    const mapped = new ProviderMapping(example('oidc-apple.example.yaml'), CONNECTOR_KINDS.oidc.defaultTemplates).map({ providerId: 'x', subject: appleIdToken.sub, attributes: attrs }, policy);
    expect(mapped).toMatchObject({
      ok: true,
      identity: { subject: appleIdToken.sub, localpart: { mode: 'ask', value: 'john.a' }, displayname: { value: 'John Appleseed', sync: 'always' }, email: { value: 'John.A@privaterelay.appleid.com' } },
    });
  });
  it('Apple: a later sign-in without a name leaves the display name alone', () => {
    const mapped = new ProviderMapping(example('oidc-apple.example.yaml'), CONNECTOR_KINDS.oidc.defaultTemplates).map({ providerId: 'x', subject: appleIdToken.sub, attributes: claimsToAttributes(appleIdToken) }, policy);
    expect(mapped).toMatchObject({ ok: true, identity: { displayname: { sync: 'always' } } });
    expect(mapped.ok && mapped.identity.displayname.value).toBeUndefined();
  });
});
