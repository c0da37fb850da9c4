import { describe, expect, it } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { isTemplateIssuer, multiTenantSchema, tenantIssuer, tenantOfIdToken } from '../../../../src/upstream/oidc/multi-tenant.js';

const A = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const B = '0b5d6c1e-3f1a-4e8b-9a43-5f1c2e7d9b10';
const token = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();

describe('multi-tenant issuers (Entra ID common / organizations)', () => {
  it('fills the template with the tenant id; the discovered issuer must be the template with {tenantid}', () => {
    expect(tenantIssuer('https://login.microsoftonline.com/{tid}/v2.0', A)).toBe(`https://login.microsoftonline.com/${A}/v2.0`);
    expect(isTemplateIssuer('https://login.microsoftonline.com/{tid}/v2.0', 'https://login.microsoftonline.com/{tenantid}/v2.0')).toBe(true);
    expect(isTemplateIssuer('https://login.microsoftonline.com/{tid}/v2.0', `https://login.microsoftonline.com/${A}/v2.0`)).toBe(false);
    expect(isTemplateIssuer('https://login.microsoftonline.us/{tid}/v2.0', 'https://login.microsoftonline.com/{tenantid}/v2.0')).toBe(false);
  });

  it('reads the tenant of an ID token and checks it against the list', () => {
    expect(tenantOfIdToken(token({ tid: A }), [A])).toEqual({ ok: true, tid: A });
    expect(tenantOfIdToken(token({ tid: B }), [A])).toEqual({ ok: false, reason: 'not_allowed', tid: B });
    // No tid, not a GUID (nothing odd may reach an issuer string), not a JWT at all.
    expect(tenantOfIdToken(token({}), [A])).toEqual({ ok: false, reason: 'no_tid' });
    expect(tenantOfIdToken(token({ tid: `${A}/../x` }), [A])).toEqual({ ok: false, reason: 'no_tid' });
    expect(tenantOfIdToken('not-a-jwt', [A])).toEqual({ ok: false, reason: 'no_tid' });
    expect(tenantOfIdToken(undefined, [A])).toEqual({ ok: false, reason: 'no_tid' });
  });

  it('config: tenant ids are GUIDs (lower-cased), the template holds {tid} once, the list is not empty', () => {
    expect(multiTenantSchema.parse({ tenants: [A.toUpperCase()] })).toEqual({ issuer_template: 'https://login.microsoftonline.com/{tid}/v2.0', tenants: [A] });
    expect(multiTenantSchema.safeParse({ tenants: ['contoso.onmicrosoft.com'] }).success).toBe(false);
    expect(multiTenantSchema.safeParse({ tenants: [] }).success).toBe(false);
    expect(multiTenantSchema.safeParse({ tenants: [A], issuer_template: 'https://login.microsoftonline.com/common/v2.0' }).success).toBe(false);
    expect(multiTenantSchema.safeParse({ tenants: [A], issuer_template: 'https://x/{tid}/{tid}' }).success).toBe(false);
  });
});
