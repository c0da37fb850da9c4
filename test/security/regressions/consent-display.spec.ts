import { describe, expect, it } from '@jest/globals';
import { clientDisplay } from '../../../src/oauth2/clients/client-display.js';
import type { OAuthClient } from '../../../src/oauth2/clients/client.js';
import { validateRegistration } from '../../../src/oauth2/registration/client-metadata.js';
import { InvalidClientMetadataError } from '../../../src/oauth2/errors.js';

/**
 * Issue 13, F2: consent host spoofing. A self-registered client declared a French `client_uri#fr`
 * on a host it does not own; French-speaking users saw "Element / app.element.io" on the consent
 * page while the codes went to the client's real redirect URI.
 */
const client = (metadata: Record<string, unknown>): OAuthClient => ({
  clientId: '01HZZZZZZZZZZZZZZZZZZZZZZZ',
  origin: 'dynamic',
  applicationType: 'web',
  redirectUris: ['https://evil.example/cb'],
  grantTypes: ['authorization_code', 'refresh_token'],
  authMethod: 'none',
  introspection: false,
  clientCredentialsScopes: [],
  metadata,
});

describe('F2: the consent page shows hosts the client was checked against', () => {
  const spoofing = client({ client_uri: 'https://evil.example/', client_name: 'Evil', 'client_name#fr': 'Element', 'client_uri#fr': 'https://app.element.io/' });

  it('shows the host of the plain client_uri, whatever the browser language', () => {
    expect(clientDisplay(spoofing, ['fr-FR', 'fr']).host).toBe('evil.example');
    expect(clientDisplay(spoofing, ['fr']).clientUri).toBe('https://evil.example/');
    expect(clientDisplay(spoofing, []).host).toBe('evil.example');
  });

  it('keeps a localized client_uri on the same host as a link', () => {
    const ok = client({ client_uri: 'https://element.io/', 'client_uri#fr': 'https://element.io/fr/' });
    expect(clientDisplay(ok, ['fr'])).toMatchObject({ host: 'element.io', clientUri: 'https://element.io/fr/' });
  });

  it('shows where the browser is sent back: the redirect URI host, or a native scheme', () => {
    expect(clientDisplay(spoofing, ['fr'], 'https://evil.example/cb').redirectTarget).toBe('evil.example');
    expect(clientDisplay(spoofing, [], 'io.element.app:/callback').redirectTarget).toBe('io.element.app');
  });

  it('refuses to register a localized client_uri on another host', () => {
    const body = {
      client_uri: 'https://evil.example/',
      'client_uri#fr': 'https://app.element.io/',
      redirect_uris: ['https://evil.example/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    };
    expect(() => validateRegistration(body, { allowInsecure: false })).toThrow(InvalidClientMetadataError);
    expect(() => validateRegistration({ ...body, 'client_uri#fr': 'https://evil.example/fr/' }, { allowInsecure: false })).not.toThrow();
  });
});
