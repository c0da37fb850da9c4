import type { ApplicationType } from './redirect-uri.rules.js';

export const GRANT = {
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  clientCredentials: 'client_credentials',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
} as const;

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** A client as the OAuth endpoints see it (static from YAML, or registered dynamically). */
export interface OAuthClient {
  clientId: string;
  origin: 'static' | 'dynamic';
  applicationType: ApplicationType;
  redirectUris: string[];
  grantTypes: string[];
  authMethod: ClientAuthMethod;
  /** SHA-256 (hex) of the client secret; confidential clients only. */
  secretHash?: string;
  /** Static clients only: may call /oauth2/introspect (legacy Synapse, msc3861). */
  introspection: boolean;
  /** Static clients only: what client_credentials may grant (e.g. urn:synapse:admin:*). */
  clientCredentialsScopes: string[];
  /** Static clients only: the scopes it may be granted at all (patterns; undefined = whatever the policy allows). */
  allowedScopes?: string[];
  idTokenAlg?: 'RS256' | 'ES256';
  /** Registered metadata (what DCR echoed, incl. `#lang` variants), for display. */
  metadata: Record<string, unknown>;
}

export const isPublic = (c: OAuthClient) => c.authMethod === 'none';
