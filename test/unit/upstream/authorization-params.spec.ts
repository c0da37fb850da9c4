import { describe, expect, it } from '@jest/globals';
import { AuthorizationParams, authorizationParamsSchema, RESERVED_OAUTH_PARAMS } from '../../../src/upstream/authorization-params.js';

describe('templated authorization parameters', () => {
  const params = new AuthorizationParams({
    hd: 'example.com',
    prompt: '{% if request.logged_out %}login{% endif %}',
    acr_values: '{{ request.acr_values }}',
    login_hint: '{{ request.login_hint | remove_first: "mxid:@" | split: ":" | first }}',
    domain_hint: '{% if request.client_id == "admin-app" %}contoso.com{% endif %}',
  });

  it('keeps plain values and leaves out what renders empty', () => {
    expect(params.render(undefined)).toEqual({ hd: 'example.com' });
    expect(params.render({ prompt: '', logged_out: false })).toEqual({ hd: 'example.com' });
  });

  it('renders over the downstream request', () => {
    expect(params.render({ prompt: 'consent', logged_out: true, acr_values: 'urn:mfa', login_hint: 'mxid:@alice:example.com', client_id: 'admin-app' })).toEqual({
      hd: 'example.com',
      prompt: 'login',
      acr_values: 'urn:mfa',
      login_hint: 'alice',
      domain_hint: 'contoso.com',
    });
  });

  it('refuses protocol parameters and templates that do not parse, naming the key', () => {
    const schema = authorizationParamsSchema(RESERVED_OAUTH_PARAMS);
    const r = schema.safeParse({ state: 'x', prompt: '{% if %}' });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual(expect.arrayContaining([expect.stringContaining('state: set by Causeway itself'), expect.stringContaining('prompt: invalid template')]));
  });
});
