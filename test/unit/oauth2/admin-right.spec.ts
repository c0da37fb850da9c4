import { describe, expect, it } from '@jest/globals';
import { mayRequestAdmin } from '../../../src/oauth2/scopes/admin-right.js';
import { parseScope } from '../../../src/oauth2/scopes/scope.js';

describe('admin right', () => {
  const user = { localpart: 'alice', canRequestAdmin: false, idpAdmin: false };

  it('comes from the per-user flag, the IdP rule or policy.admin_localparts', () => {
    expect(mayRequestAdmin(user, [])).toBe(false);
    expect(mayRequestAdmin({ ...user, canRequestAdmin: true }, [])).toBe(true);
    expect(mayRequestAdmin({ ...user, idpAdmin: true }, [])).toBe(true);
    expect(mayRequestAdmin(user, ['alice'])).toBe(true);
    expect(mayRequestAdmin(user, ['bob'])).toBe(false);
  });

  it('urn:causeway:admin is a scope of its own, apart from urn:synapse:admin:*', () => {
    expect(parseScope('urn:causeway:admin')).toMatchObject({ causewayAdmin: true, admin: false, api: false });
    expect(parseScope('openid urn:synapse:admin:*')).toMatchObject({ causewayAdmin: false, admin: true });
  });
});
