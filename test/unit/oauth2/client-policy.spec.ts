import { describe, expect, it } from '@jest/globals';
import { policySection } from '../../../src/config/sections/policy.config.js';
import { clientRefusal, registrationRefusal, scopeRefusal } from '../../../src/oauth2/clients/client-policy.js';
import type { OAuthClient } from '../../../src/oauth2/clients/client.js';

const policy = (p: Record<string, unknown> = {}) => policySection.parse(p);
const client = (over: Partial<OAuthClient> = {}): OAuthClient => ({
  clientId: '01DYNAMIC',
  origin: 'dynamic',
  applicationType: 'web',
  redirectUris: [],
  grantTypes: ['authorization_code', 'refresh_token'],
  authMethod: 'none',
  introspection: false,
  clientCredentialsScopes: [],
  metadata: { client_uri: 'https://app.element.io/' },
  ...over,
});
const meta = (client_uri: string, grant_types = ['authorization_code', 'refresh_token']) => ({ client_uri, grant_types });

describe('client policy', () => {
  it('open registration admits anyone; closed admits no one; allow_list by client_uri host or exact client_id', () => {
    expect(registrationRefusal(policy(), meta('https://x.example'))).toBeUndefined();
    expect(registrationRefusal(policy({ client_registration: 'closed' }), meta('https://x.example'))).toContain('policy.client_registration: closed');
    const allow = policy({ client_registration: 'allow_list', client_registration_allow: ['app.element.io', '*.corp.example', '01KNOWN'] });
    expect(registrationRefusal(allow, meta('https://app.element.io/'))).toBeUndefined();
    expect(registrationRefusal(allow, meta('https://chat.corp.example'))).toBeUndefined();
    expect(registrationRefusal(allow, meta('https://corp.example'))).toContain('policy.client_registration: allow_list');
    expect(registrationRefusal(allow, meta('https://evil.example'))).toContain('allow_list');
    expect(registrationRefusal(allow, meta('https://evil.example'), '01KNOWN')).toBeUndefined();
  });

  it('an allow_list needs an entry (config error naming the key)', () => {
    const r = policySection.safeParse({ client_registration: 'allow_list' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['client_registration_allow']);
  });

  it('refuses registering for the device grant when it is off', () => {
    expect(registrationRefusal(policy({ device_code_grant: false }), meta('https://x.example', ['urn:ietf:params:oauth:grant-type:device_code']))).toContain('policy.device_code_grant');
  });

  it('lets static clients connect whatever the registration policy; dynamic ones only while admitted', () => {
    expect(clientRefusal(policy({ client_registration: 'closed' }), client({ origin: 'static' }))).toBeUndefined();
    expect(clientRefusal(policy({ client_registration: 'closed' }), client())).toContain('closed');
    expect(clientRefusal(policy({ client_registration: 'allow_list', client_registration_allow: ['app.element.io'] }), client())).toBeUndefined();
    expect(clientRefusal(policy({ client_registration: 'allow_list', client_registration_allow: ['other.example'] }), client())).toContain('allow_list');
  });

  it('keeps urn:synapse:admin:* from dynamic clients by default, in either namespace spelling of a Matrix rule', () => {
    expect(scopeRefusal(policy(), client(), ['openid', 'urn:synapse:admin:*'])).toContain('policy.dynamic_client_denied_scopes');
    expect(scopeRefusal(policy(), client({ origin: 'static' }), ['urn:synapse:admin:*'])).toBeUndefined();
    expect(scopeRefusal(policy({ dynamic_client_denied_scopes: [] }), client(), ['urn:synapse:admin:*'])).toBeUndefined();
    const noDevices = policy({ denied_scopes: ['urn:matrix:client:device:*'] });
    expect(scopeRefusal(noDevices, client(), ['urn:matrix:org.matrix.msc2967.client:device:ABC'])).toContain('policy.denied_scopes');
  });

  it("applies a static client's allowed_scopes", () => {
    const bot = client({ origin: 'static', allowedScopes: ['openid', 'urn:matrix:client:*'] });
    expect(scopeRefusal(policy(), bot, ['openid', 'urn:matrix:client:api:*', 'urn:matrix:client:device:X'])).toBeUndefined();
    expect(scopeRefusal(policy(), bot, ['email'])).toContain('allowed_scopes');
  });
});
