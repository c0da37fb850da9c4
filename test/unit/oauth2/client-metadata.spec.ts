import { describe, expect, it } from '@jest/globals';
import { canonicalJson, validateRegistration } from '../../../src/oauth2/registration/client-metadata.js';

const strict = { allowInsecure: false };
const element = {
  client_name: 'Element',
  client_uri: 'https://app.element.io',
  redirect_uris: ['https://app.element.io/?no_universal_links=true'],
  logo_uri: 'https://app.element.io/vector-icons/1024.png',
  application_type: 'web',
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
};
const code = (body: unknown) => {
  try {
    validateRegistration(body, strict);
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'ok';
};

describe('validateRegistration (MSC2966)', () => {
  it('accepts what Element Web sends and echoes it', () => {
    expect(validateRegistration(element, strict)).toMatchObject({ ...element, redirect_uris: element.redirect_uris });
  });
  it('drops unknown fields and unknown grant/response types', () => {
    const out = validateRegistration({ ...element, software_id: 'x', grant_types: [...element.grant_types, 'urn:ietf:params:oauth:grant-type:token-exchange'], response_types: ['code', 'id_token'] }, strict);
    expect(out).not.toHaveProperty('software_id');
    expect(out.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(out.response_types).toEqual(['code']);
  });
  it('accepts localized fields and checks localized URIs like their base', () => {
    const out = validateRegistration({ ...element, 'client_name#fr': 'Élément', 'tos_uri#de': 'https://app.element.io/de/tos' }, strict);
    expect(out['client_name#fr']).toBe('Élément');
    expect(code({ ...element, 'logo_uri#fr': 'https://evil.com/logo.png' })).toBe('invalid_client_metadata');
    expect(code({ ...element, 'client_name#fr': 3 })).toBe('invalid_client_metadata');
  });
  it('accepts a device-code-only native client without redirect URIs (Element X QR)', () => {
    const out = validateRegistration(
      { application_type: 'native', client_uri: 'https://element.io', client_name: 'Element X', token_endpoint_auth_method: 'none', grant_types: ['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] },
      strict,
    );
    expect(out.response_types).toEqual([]);
    expect(out.redirect_uris).toBeUndefined();
  });
  it('follows the contract table', () => {
    expect(code({ ...element, client_uri: undefined })).toBe('invalid_client_metadata');
    expect(code({ ...element, client_uri: 'http://app.element.io' })).toBe('invalid_client_metadata');
    expect(code({ ...element, client_uri: 'https://co.uk', redirect_uris: ['https://co.uk/cb'], logo_uri: undefined })).toBe('invalid_client_metadata');
    expect(code({ ...element, logo_uri: 'https://evil.com/x.png' })).toBe('invalid_client_metadata');
    expect(code({ ...element, application_type: 'desktop' })).toBe('invalid_client_metadata');
    expect(code({ ...element, redirect_uris: [] })).toBe('invalid_redirect_uri');
    expect(code({ ...element, redirect_uris: undefined })).toBe('invalid_redirect_uri');
    expect(code({ ...element, response_types: ['token'] })).toBe('invalid_client_metadata');
    expect(code({ ...element, grant_types: ['authorization_code'] })).toBe('invalid_client_metadata');
    expect(code({ ...element, redirect_uris: ['https://app.element.io/cb#x'] })).toBe('invalid_redirect_uri');
    expect(code({ ...element, redirect_uris: ['http://app.element.io/cb'] })).toBe('invalid_redirect_uri');
    expect(code({ ...element, redirect_uris: ['https://other.io/cb'] })).toBe('invalid_redirect_uri');
    expect(code({ ...element, application_type: 'native', redirect_uris: ['http://localhost:1234/cb'] })).toBe('invalid_redirect_uri');
    expect(code({ ...element, application_type: 'native', redirect_uris: ['example:/cb'] })).toBe('invalid_redirect_uri');
    expect(code({ ...element, grant_types: ['client_credentials', 'refresh_token'] })).toBe('invalid_client_metadata');
    expect(code({ ...element, redirect_uris: 'https://app.element.io/' })).toBe('invalid_client_metadata');
    expect(code({ ...element, token_endpoint_auth_method: 'private_key_jwt' })).toBe('invalid_client_metadata');
  });
  it('answers invalid_request for a body that is not a JSON object', () => {
    expect(code([])).toBe('invalid_request');
    expect(code('x')).toBe('invalid_request');
    expect(code(null)).toBe('invalid_request');
  });
  it('treats null fields as absent', () => {
    expect(code({ ...element, tos_uri: null, policy_uri: null })).toBe('ok');
  });
  it('hashes metadata independently of key order', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 1, x: 2 }] })).toBe(canonicalJson({ a: [{ x: 2, y: 1 }], b: 1 }));
  });
});
